// Sharded stages over several `dual-ipo worker` processes on the real dev server, the command backend
// running examples/jobs/sleep-job.mjs (it appends a line to runs.log in its job folder per start):
// dozens of shards per stage, one worker SIGKILLed in the middle of its shards.
//
// What it proves, precisely (the command backend detaches jobs and re-attaches by pid + nonce):
// - worker SIGKILLed, its jobs left running (a worker crash): the shards it held are retried as
//   activities (attempt 2, on another worker), but no job starts twice: each retry re-attaches to
//   its job or collects its result. No other shard is retried beyond the killed worker's slots.
// - worker SIGKILLed together with its jobs (a host lost): exactly the shards whose jobs were killed
//   start a second time; every other shard's job starts once.
// In both cases the round completes and its labels and pairs cover every prompt exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startOrAttach } from '../../lib/campaign/client';
import type { CampaignResult } from '../../workflows/definitions';
import { checkCoverage, Fleet, fleetConfig, jobStarts } from '../../bench/fleet';
import { createLocalEnv } from '../helpers/temporal';

const ORCH = 'fleet-e2e-orch';
const GPU = 'fleet-e2e-gpu';
const WORKERS = 3;
const SLOTS = 4;
const PROMPTS = 36;
let env: TestWorkflowEnvironment;
let work: string;
let fleet: Fleet;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-fleet-e2e-'));
  await mkdir(join(work, 'logs'), { recursive: true });
  env = await createLocalEnv();
});

after(async () => {
  await fleet?.stopAll();
  await env?.teardown();
});

/** The shards (index -> job pid) whose job `workerPid` started and that are still running. */
async function runningJobsOf(stageDir: string, workerPid: number): Promise<Map<number, number>> {
  const jobs = new Map<number, number>();
  const shardsDir = join(stageDir, 'shards');
  if (!existsSync(shardsDir)) return jobs;
  for (const name of await readdir(shardsDir)) {
    const dir = join(shardsDir, name);
    if (!existsSync(join(dir, 'job.json')) || existsSync(join(dir, 'exit_code'))) continue;
    const { pid } = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as { pid: number };
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === workerPid) jobs.set(Number(name), pid);
    } catch {
      // finished meanwhile
    }
  }
  return jobs;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Ledger {
  shards: Array<{ index: number; attempt: number; worker: string }>;
}

describe('sharded stages over several worker processes', { timeout: 600_000 }, () => {
  test('SIGKILL of a worker mid-shard: only its shards are retried; with their jobs killed too, only those jobs start again', async () => {
    fleet = new Fleet(env.address, work, `${GPU}:${SLOTS}`, ORCH);
    fleet.start(WORKERS, ORCH);
    for (let i = 0; i < WORKERS; i++) fleet.start(i);
    await fleet.ready();
    const id = 'fleet-e2e';
    const config = fleetConfig(id, { rounds: 1, prompts: PROMPTS, candidates: 2, evalPrompts: 6, workers: WORKERS, slots: SLOTS, timeScale: 1, sampleShard: 1, labelShard: 1, evaluateShard: 1, heartbeatTimeout: '4s' }, join(work, 'artifacts'), { orchestration: ORCH, gpu: GPU });
    for (const stage of Object.keys(config.stages) as Array<keyof typeof config.stages>) Object.assign(config.stages[stage].params, { seconds: 0.1, secondsPerItem: 0.1, steps: 1 });
    // 36 shards a stage, 12 slots: three waves of 3 s (sample) and 2 s (label) jobs.
    Object.assign(config.stages.sample.params, { secondsPerItem: 1.5, steps: 3 });
    Object.assign(config.stages.label.params, { secondsPerItem: 1, steps: 4 });
    config.campaign.criticRefinement = 'never';
    const { handle } = await startOrAttach(env.client, config);
    const round = join(work, 'jobs', id, 'round-0001');

    // A worker crash in sample: the worker dies, its jobs keep running.
    const sampleVictim = fleet.workers[0]!;
    const crashed = await waitFor('worker 0 running sample jobs in all its slots', async () => {
      const jobs = await runningJobsOf(join(round, 'sample'), sampleVictim.pid!);
      return jobs.size === SLOTS ? jobs : undefined;
    });
    await fleet.kill(0);
    fleet.start(0);

    // A host lost in label: the worker and its jobs die.
    const labelVictim = fleet.workers[1]!;
    const labelShard = (index: number) => join(round, 'label', 'shards', String(index).padStart(5, '0'));
    const started = (index: number) => (existsSync(join(labelShard(index), 'runs.log')) ? readFileSync(join(labelShard(index), 'runs.log'), 'utf8').split('\n').filter(Boolean).length : 0);
    const jobsOfVictim = await waitFor('worker 1 running label jobs', async () => {
      const jobs = await runningJobsOf(join(round, 'label'), labelVictim.pid!);
      return [...jobs.keys()].filter((i) => started(i) > 0).length >= 2 ? jobs : undefined;
    });
    await fleet.kill(1);
    const lost = new Set<number>();
    for (const pid of jobsOfVictim.values()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is gone: it finished between the look and the kill
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    // Lost: its program had started (a line in runs.log) and was killed before its shell recorded an
    // exit code. A job that finished in between is collected, one killed before its program ran
    // starts for the first time on the retry: neither starts twice.
    for (const index of jobsOfVictim.keys()) if (started(index) === 1 && !existsSync(join(labelShard(index), 'exit_code'))) lost.add(index);
    fleet.start(1);
    assert.ok(lost.size >= 1, 'at least one label job was killed with its worker');

    const result = (await handle.result()) as CampaignResult;
    assert.equal(result.rounds, 1);
    const starts = await jobStarts(join(work, 'jobs', id));
    const ledger = async (stage: string) => JSON.parse(await readFile(join(work, 'artifacts', 'campaigns', id, 'round-0001', stage, 'shards.json'), 'utf8')) as Ledger;

    // Sample: the killed worker's shards were retried elsewhere; no job started twice.
    const sample = await ledger('sample');
    assert.equal(sample.shards.length, PROMPTS);
    const sampleRetried = sample.shards.filter((s) => s.attempt > 1).map((s) => s.index);
    for (const index of crashed.keys()) assert.ok(sampleRetried.includes(index), `sample shard ${index} (held by the killed worker) was retried`);
    assert.ok(sampleRetried.length <= SLOTS, `only the killed worker's shards were retried: ${sampleRetried.join(', ')}`);
    for (const index of crashed.keys()) assert.doesNotMatch(sample.shards[index]!.worker, new RegExp(`:${sampleVictim.pid}$`), `shard ${index} finished on another worker`);
    for (let i = 0; i < PROMPTS; i++) assert.equal(starts.get(`round-0001/sample/shards/${String(i).padStart(5, '0')}`), 1, `sample shard ${i}: job started once`);

    // Label: exactly the shards whose jobs died with the worker started again.
    const label = await ledger('label');
    for (let i = 0; i < PROMPTS; i++) {
      assert.equal(starts.get(`round-0001/label/shards/${String(i).padStart(5, '0')}`), lost.has(i) ? 2 : 1, `label shard ${i}: ${lost.has(i) ? 'killed with its worker, started again' : 'started once'}`);
    }
    for (const index of lost) assert.ok(label.shards[index]!.attempt > 1, `label shard ${index} was retried`);
    assert.ok(label.shards.filter((s) => s.attempt > 1).length <= SLOTS);

    // Every other job (unsharded stages, evaluate shards) started once.
    for (const [job, n] of starts) if (!job.startsWith('round-0001/label/')) assert.equal(n, 1, `${job} started once`);
    assert.deepEqual(await checkCoverage(join(work, 'artifacts'), id, PROMPTS, 2), []);
  });
});
