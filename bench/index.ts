// `npm run bench [-- --json] [-- --quick] [-- --only orchestration|shards|throughput|fleet|models|world]`: performance figures
// measured in one run, printed as ratios. Not part of the tests: nothing here asserts a time.
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { benchOrchestration } from './orchestration';
import { benchModels } from './models';
import { benchShardHistory } from './shards';
import { benchThroughput, formatFleetReport, simulateFleet, SMALL_SCALE } from './fleet';
import { benchWorld } from './world';

const HELP = `Usage: npm run bench -- [--json] [--quick] [--only orchestration|shards|throughput|fleet|models|world]

Measures, on this machine and in this run:
  orchestration  activity dispatch latency p50/p95 on the Temporal dev server, orchestration
                 overhead as a share of a round's wall time, history bytes per round at 10 and
                 10,000 prompts (--quick: 1,000)
  shards         history events and bytes of a round whose sample stage runs 10, 1,000 and
                 10,000 shards (--quick: 10 and 1,000): the round's own history, the fan-out
                 child's (all its runs), the campaign's; orchestration time per shard
  throughput     sharded sample stages of sleep-bound example jobs (examples/jobs/sleep-job.mjs) over
                 1, 2, 4 and 8 single-slot worker processes: speed-up, efficiency (speed-up / N) and
                 orchestration overhead per shard ((wall - ideal) / shards)
  fleet          the fleet simulation, scaled down (1 round, 400 prompts x 8, 4 workers x 8 slots, a
                 worker SIGKILLed every 20 s, the Temporal server restarted once): wall time against
                 the ideal, shards retried, job starts; the full scale: npm run simulate-fleet
  models         sampling, labelling and training throughput of the reference models against
                 the measured matrix-multiply peak
  world          the reference world's rendering and evaluator, milliseconds per video

--json prints one JSON object with every figure instead of the table.`;

const { values } = parseArgs({ options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
// Worker chatter would bury the figures.
Runtime.install({ logger: new DefaultLogger('WARN') });
const log = (line: string) => {
  if (!values.json) console.log(line);
  else console.error(line);
};
const figures: Record<string, Record<string, number>> = {};

if (!values.only || values.only === 'orchestration') {
  log('== orchestration (Temporal dev server, command backend example jobs)');
  figures.orchestration = await benchOrchestration({ quick: values.quick, log });
}
if (!values.only || values.only === 'shards') {
  log('== sharded rounds (Temporal dev server, scripted activities)');
  figures.shards = await benchShardHistory({ quick: values.quick, log });
}
if (!values.only || values.only === 'throughput') {
  log('== shard throughput (Temporal dev server, dual-ipo worker processes, sleep-bound jobs)');
  figures.throughput = await benchThroughput({ quick: values.quick, log });
}
if (values.only === 'fleet') {
  log('== fleet simulation, scaled down (npm run simulate-fleet for the full scale)');
  const report = await simulateFleet({ ...SMALL_SCALE, log });
  log(formatFleetReport(report));
  figures.fleet = { wallSeconds: report.wallSeconds, idealSeconds: report.idealSeconds, overWall: report.overWall, shards: report.shards, shardsRetried: report.shardsRetried, jobs: report.jobs, jobStarts: report.jobStarts, workerKills: report.workerKills, coverageProblems: report.coverageProblems.length };
}
if (!values.only || values.only === 'models') {
  log('== reference models');
  figures.models = await benchModels({ quick: values.quick });
}
if (!values.only || values.only === 'world') {
  log('== reference world');
  figures.world = await benchWorld({ quick: values.quick });
}

if (values.json) {
  console.log(JSON.stringify(figures));
} else {
  for (const [group, entries] of Object.entries(figures)) {
    console.log(`\n${group}`);
    for (const [name, value] of Object.entries(entries)) console.log(`  ${name.padEnd(40)} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
  }
}
process.exit(0);
