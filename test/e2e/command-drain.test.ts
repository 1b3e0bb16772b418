// End to end on the dev server with several worker processes, each with its own jobs folder (as on
// separate hosts): SIGTERM to the worker running generator training drains it; the job writes a last
// checkpoint with its weights file, which goes to the artifact store; the retry on the other worker
// gets that file from the store (never from the drained host's folder) and resumes there. Every job
// of the campaign prints DeepSpeed/torchrun-style lines on stdout and writes folder outputs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { startOrAttach } from '../../lib/campaign/client';
import type { CampaignResult } from '../../workflows/definitions';
import { createLocalEnv } from '../helpers/temporal';

const ROOT = join(import.meta.dirname, '..', '..');
let env: TestWorkflowEnvironment;
let work: string;
const workers = new Set<ChildProcess>();

function campaignConfig(id: string): CampaignConfig {
  const stage = (params: Record<string, unknown>) => ({
    backend: 'command',
    command: ['node', join(ROOT, 'examples/jobs/stage-job.mjs')],
    taskQueue: 'drain-gpu',
    heartbeatTimeout: '10s',
    maxAttempts: 3,
    params: { steps: 1, stepDelayMs: 0, chatty: true, folderOutputs: true, ...params },
  });
  const stages = Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'evaluate'].map((s) => [s, stage({})]));
  return parseConfig({
    campaign: { id, maxRounds: 1, criticRefinement: 'never' },
    generation: { promptsPerRound: 4, candidatesPerPrompt: 4, evalPrompts: 4 },
    artifacts: { root: join(work, 'artifacts') },
    temporal: { taskQueue: 'drain-orch' },
    // One attempt: the drain must not spend it (the workflow restarts a drained stage afresh).
    stages: { ...stages, generatorTrain: { ...stage({ steps: 40, stepDelayMs: 250, checkpointFiles: true }), gpusPerJob: 1, maxAttempts: 1 } },
  });
}

/** A `dual-ipo worker` process; `host` names its own jobs folder. */
function startWorker(host: string, queues: string): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'worker', '--queues', queues, '--orchestration-queue', 'drain-orch', '--jobs-dir', join(work, `jobs-${host}`), '--drain-seconds', '15'], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  workers.add(child);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => (workers.delete(child), resolve(code))));
  return { child, exit, stderr: () => stderr };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-drain-'));
  env = await createLocalEnv();
});

after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await env?.teardown();
});

describe('worker drain on the dev server', { timeout: 600_000 }, () => {
  test('SIGTERM to a worker: its job checkpoints, and the stage restarted on another worker resumes from the checkpoint\'s files in the store, with its one attempt unspent', async () => {
    startWorker('orch', 'drain-orch');
    const a = startWorker('a', 'drain-gpu:1');
    const cfg = campaignConfig('e2e-drain');
    const { handle } = await startOrAttach(env.client, cfg);
    const folder = (host: string) => join(work, `jobs-${host}`, 'e2e-drain', 'round-0001', 'generatorTrain');
    // Generator training under way on host a, with a few checkpoints.
    await waitFor('3 checkpoints of generatorTrain on host a', async () => ((await readFile(join(folder('a'), 'channel.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"progress"')).length >= 3 ? true : undefined));
    startWorker('b', 'drain-gpu:1');
    a.child.kill('SIGTERM');
    assert.equal(await a.exit, 0, `worker a exits cleanly after its drain:\n${a.stderr().slice(-2000)}`);
    assert.match(a.stderr(), /SIGTERM: draining for up to 15 s/);
    assert.equal((await readFile(join(folder('a'), 'exit_code'), 'utf8')).trim(), '75', 'the job exited 75 after its last checkpoint');

    const result = (await handle.result()) as CampaignResult;
    assert.equal(result.rounds, 1);

    const lastOnA = (await readFile(join(folder('a'), 'channel.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.type === 'progress').at(-1);
    assert.match(lastOnA.message, /terminated at step/);
    const step = lastOnA.checkpoint.step as number;
    assert.deepEqual(lastOnA.files, [`step-${step}.bin`]);
    const channelB = await readFile(join(folder('b'), 'channel.jsonl'), 'utf8');
    assert.match(channelB, new RegExp(`restored step-${step}\\.bin from the checkpoint`));
    assert.match(channelB, new RegExp(`resuming generatorTrain at step ${step}`));
    // Host b's copy came from the store: the checkpoint's file there is what a put it.
    const stored = join(work, 'artifacts', 'campaigns', 'e2e-drain', 'round-0001', 'generatorTrain', 'checkpoint', `step-${step}.bin`);
    assert.equal(await readFile(join(folder('b'), 'ckpt', `step-${step}.bin`), 'utf8'), await readFile(stored, 'utf8'));
    const jobB = JSON.parse(await readFile(join(folder('b'), 'job.json'), 'utf8'));
    assert.equal(jobB.attempt, 1, 'host b started the job once, from the checkpoint');
    assert.deepEqual(jobB.slots?.slots, [0]);

    // Every job logged DeepSpeed/torchrun-style lines on stdout and wrote folder outputs.
    assert.match(await readFile(join(folder('b'), 'stdout.log'), 'utf8'), /^\[rank0\]: step=\d+/m);
    const manifest = JSON.parse(await readFile(join(work, 'artifacts', 'campaigns', 'e2e-drain', 'round-0001', 'manifest.json'), 'utf8'));
    const text = JSON.stringify(manifest);
    assert.match(text, /dual-ipo\/tree@1/, 'tree outputs are recorded in the round manifest');
    assert.ok(existsSync(join(work, 'artifacts', 'campaigns', 'e2e-drain', 'round-0001', 'generatorTrain', 'generator.d', 'main.json')));
  });
});
