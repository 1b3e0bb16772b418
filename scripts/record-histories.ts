// Records workflow histories for the replay tests (test/workflows/replay.test.ts): runs scripted
// campaigns on the time-skipping server and saves every campaign, round and refinement history.
// Run after a deliberate, patched workflow change, with a new tag (files are kept per tag, so the
// histories of every released workflow version stay under test):
//   node --import tsx scripts/record-histories.ts v4
// Never re-record to make a failing replay test pass: that failure means running campaigns would break.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { parseConfig } from '../config/load';
import { dualIpoCampaign } from '../workflows/campaign';
import { refinementWorkflowId, roundWorkflowId, shardWorkflowId } from '../workflows/definitions';
import { humanTestWorkflowId } from '../workflows/human-test-definitions';
import { WORKFLOWS_PATH } from '../workers/worker';
import { createTimeSkippingEnv } from '../test/helpers/temporal';
import { fakeActivities, type Script } from '../test/helpers/fake-activities';

const QUEUE = 'record';
const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');

const scenarios: Array<{ name: string; script: Script; config: Record<string, any>; stages?: Record<string, Record<string, unknown>> }> = [
  { name: 'accept-path', script: { totals: [70, 72, 74] }, config: { campaign: { maxRounds: 2 } } },
  { name: 'critic-gate-fails', script: { totals: [70, 72], agreement: () => 0.6 }, config: { campaign: { maxRounds: 1 } } },
  { name: 'eval-gate-rollback', script: { totals: [70, 72, 69, 75] }, config: { campaign: { maxRounds: 3, criticRefinement: 'on-degradation' } } },
  { name: 'eval-gate-standard-error', script: { totals: [70, 70.3, 70.9], standardError: () => 0.25 }, config: { campaign: { maxRounds: 2 }, gates: { eval: { minStandardErrors: 2 } } } },
  // v4: sharded sample, label (and relabel) and evaluate, one sample shard retried.
  {
    name: 'sharded',
    script: { totals: [70, 72, 74], failFirstAttempt: (stage, i) => stage === 'sample' && i === 2 },
    config: { campaign: { maxRounds: 2 }, generation: { promptsPerRound: 40, evalPrompts: 16 } },
    stages: { sample: { shardSize: 4, maxParallel: 3 }, label: { shardSize: 10, maxParallel: 2 }, evaluate: { shardSize: 8 } },
  },
  // v5: the eval gate rejects round 2 after its critic update passed the critic gate: the critic is rolled back too.
  { name: 'critic-rollback', script: { totals: [70, 72, 69, 75] }, config: { campaign: { maxRounds: 3 } } },
  // v5: a command stage drained twice (WorkerDrained) and scheduled again by the workflow (patch 'drain-restarts').
  { name: 'drained', script: { totals: [70, 72], drains: (stage, round) => (stage === 'generatorTrain' && round === 1 ? 2 : 0) }, config: { campaign: { maxRounds: 1 } } },
  // v5: the human test set refreshed from the champion's candidates (the simulated panel through the
  // labels update path; round 2 refreshes again after round 1's accepted generator), and a round whose
  // external labels never come (onTimeout fail-gate). The export needs the builtin sampler's config.
  {
    name: 'human-test',
    script: { totals: [70, 72, 74] },
    config: { campaign: { maxRounds: 2 }, humanTest: { source: 'champion', pairs: 8 } },
    stages: { sample: { backend: 'builtin' } },
  },
  {
    name: 'human-test-timeout',
    script: { totals: [70, 72] },
    config: { campaign: { maxRounds: 1 }, humanTest: { source: 'champion', annotators: 'external', timeout: '2h', reminderEvery: '30m', onTimeout: 'fail-gate' } },
    stages: { sample: { backend: 'builtin' } },
  },
];
/** The fan-out children a sharded round may start (absent ones are skipped). */
const SHARDED_LABELS = ['sample', 'label', 'label-relabel', 'label-pseudo', 'evaluate'];

const TAG = process.argv[2];
if (!TAG || !/^v\d+$/.test(TAG)) {
  console.error('usage: node --import tsx scripts/record-histories.ts vN   (a new tag; see the files in test/fixtures/histories)');
  process.exit(2);
}

const env = await createTimeSkippingEnv();
await mkdir(OUT, { recursive: true });
try {
  for (const scenario of scenarios) {
    const id = `replay-${scenario.name}`;
    const stages = Object.fromEntries(
      ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, { backend: 'command', command: ['true'], taskQueue: QUEUE, ...(scenario.stages?.[s] ?? {}) }]),
    );
    const config = parseConfig({ ...scenario.config, campaign: { id, ...scenario.config.campaign }, stages, temporal: { taskQueue: QUEUE } });
    const { activities } = fakeActivities(scenario.script);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowsPath: WORKFLOWS_PATH, activities });
    const rounds = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: id, taskQueue: QUEUE, args: [{ config, configHash: 'replay', store: { root: 'file:///fake' } }] });
      return (await handle.result()).rounds;
    });
    const ids = [id, shardWorkflowId(id, 0, 'evaluate')];
    for (let r = 1; r <= rounds; r++) ids.push(roundWorkflowId(id, r), refinementWorkflowId(id, r), humanTestWorkflowId(id, r), ...SHARDED_LABELS.map((l) => shardWorkflowId(id, r, l)));
    for (const workflowId of ids) {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory().catch(() => undefined);
      if (!history) continue;
      const file = join(OUT, `${TAG}@${workflowId.replaceAll('/', '__')}.json`);
      await writeFile(file, historyToJSON(history));
      console.log(`recorded ${file}`);
    }
  }
} finally {
  await env.teardown();
}
