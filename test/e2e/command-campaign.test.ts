// End to end on the real dev server, workers in separate processes, the `command` backend running
// the example jobs: a worker SIGKILLed in the middle of an activity costs a retry, not the campaign.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { startOrAttach, readStatus } from '../../lib/campaign/client';
import type { CampaignResult } from '../../workflows/definitions';
import { createLocalEnv } from '../helpers/temporal';

const ROOT = join(import.meta.dirname, '..', '..');
let env: TestWorkflowEnvironment;
let work: string;
const workers = new Set<ChildProcess>();

function campaignConfig(id: string, overrides: { command?: string[]; stepDelayMs?: number } = {}): CampaignConfig {
  const command = overrides.command ?? ['node', join(ROOT, 'examples/jobs/stage-job.mjs')];
  const stage = { backend: 'command', command, taskQueue: `e2e-cpu`, heartbeatTimeout: '4s', maxAttempts: 3, params: { stepDelayMs: overrides.stepDelayMs ?? 0 } };
  return parseConfig({
    campaign: { id, maxRounds: 2, criticRefinement: 'every-round' },
    generation: { promptsPerRound: 4, candidatesPerPrompt: 4, evalPrompts: 4 },
    artifacts: { root: join(work, 'artifacts') },
    temporal: { taskQueue: 'e2e-orch' },
    stages: Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, stage])),
  });
}

function startWorker(name: string): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'worker', '--queues', 'e2e-orch,e2e-cpu:2', '--orchestration-queue', 'e2e-orch', '--jobs-dir', join(work, `jobs`)], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.on('exit', (code, signal) => {
    workers.delete(child);
    if (code && code !== 0) console.error(`worker ${name} exited ${code} ${signal ?? ''}\n${stderr.slice(-2000)}`);
  });
  workers.add(child);
  return child;
}

/** The real `dual-ipo` binary against the test server. */
function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Manifests of a campaign with its id, the timing fields and the config hash (the two runs differ in id and job pacing) normalised away. */
async function normalisedManifests(campaignId: string): Promise<unknown[]> {
  const dir = join(work, 'artifacts', 'campaigns', campaignId);
  const rounds = (await readdir(dir)).filter((d) => d.startsWith('round-')).sort();
  const out: unknown[] = [];
  for (const r of rounds) {
    const text = await readFile(join(dir, r, 'manifest.json'), 'utf8').catch(() => undefined);
    if (!text) continue;
    out.push(
      JSON.parse(text.replaceAll(campaignId, 'CAMPAIGN'), (key, value) =>
        ['startedAt', 'finishedAt', 'seconds', 'at', 'reused', 'configHash'].includes(key) ? undefined : value,
      ),
    );
  }
  return out;
}

async function fileTimes(dir: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else times.set(relative(dir, p), (await stat(p)).mtimeMs);
    }
  };
  await walk(dir);
  return times;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-e2e-'));
  env = await createLocalEnv();
});

after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await env?.teardown();
});

describe('campaign on the dev server with the command backend', { timeout: 600_000 }, () => {
  test('SIGKILL of a worker mid-activity: the campaign completes, nothing is written twice, manifests equal an uninterrupted run', async () => {
    startWorker('reference');
    const reference = await startOrAttach(env.client, campaignConfig('e2e-reference'));
    const referenceResult = (await reference.handle.result()) as CampaignResult;
    assert.equal(referenceResult.rounds, 2);

    const cfg = campaignConfig('e2e-crash', { stepDelayMs: 300 });
    const { handle } = await startOrAttach(env.client, cfg);
    // Wait until round 1's generator training is under way and has reported progress.
    await waitFor('generatorTrain progress in round 1', async () => {
      const s = await readStatus(env.client, cfg.campaign.id!);
      const a = s.activities.find((x) => x.activity === 'generatorTrain');
      return s.status?.round === 1 && a && (a.done ?? 0) >= 1 ? true : undefined;
    });
    const before = await fileTimes(join(work, 'artifacts', 'campaigns', cfg.campaign.id!));
    for (const w of [...workers]) w.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    startWorker('after-crash');
    const result = (await handle.result()) as CampaignResult;
    assert.equal(result.rounds, 2);
    assert.deepEqual(result.acceptedTotals, referenceResult.acceptedTotals);

    const afterTimes = await fileTimes(join(work, 'artifacts', 'campaigns', cfg.campaign.id!));
    for (const [file, mtime] of before) {
      if (/checkpoint\.json(\.sha256)?$/.test(file)) continue; // progress checkpoints are meant to advance
      // Champion pointers and the campaign record are the campaign's mutable "current" view: a later
      // round may legitimately move them. Every round artifact is write-once.
      if (file.startsWith('champions/') || file.startsWith('campaign.json')) continue;
      assert.equal(afterTimes.get(file), mtime, `${file} was written again after the crash`);
    }
    assert.deepEqual(await normalisedManifests(cfg.campaign.id!), await normalisedManifests('e2e-reference'));
  });

  test('a job that exits non-zero fails the campaign with a clear message in status, and leaves no half-written artifact', async () => {
    startWorker('failing');
    const cfg = campaignConfig('e2e-failing');
    cfg.stages.generatorTrain.command = ['node', join(ROOT, 'examples/jobs/fail-exit.mjs')];
    cfg.stages.generatorTrain.maxAttempts = 1;
    const { handle } = await startOrAttach(env.client, cfg);
    await assert.rejects(handle.result());
    const status = await readStatus(env.client, cfg.campaign.id!);
    assert.equal(status.workflowStatus, 'FAILED');
    assert.match(status.failure ?? '', /generatorTrain/);
    assert.match(status.failure ?? '', /exit/i);
    const files = [...(await fileTimes(join(work, 'artifacts'))).keys()];
    assert.deepEqual(files.filter((f) => f.includes('.tmp')), []);
    assert.ok(!files.some((f) => f.includes('e2e-failing/round-0001/generatorTrain/result.json')));
    const manifest = JSON.parse(await readFile(join(work, 'artifacts/campaigns/e2e-failing/round-0001/manifest.json'), 'utf8'));
    assert.equal(manifest.status, 'failed');

    // What a user sees: `status` names the stage and the exit, `history --json` has the failed round.
    const status2 = cli(['status', 'e2e-failing']);
    assert.equal(status2.code, 3, status2.err); // the exit status of a failed campaign
    assert.match(status2.out, /FAILED/);
    assert.match(status2.out, /generatorTrain.*exited with code 3/s);
    assert.match(status2.out, /CUDA error: out of memory/);
    const history = cli(['history', 'e2e-failing', '--json']);
    assert.equal(history.code, 0, history.err);
    const audit = JSON.parse(history.out);
    assert.equal(audit.workflowStatus, 'FAILED');
    assert.equal(audit.rounds[0].status, 'failed');
    assert.ok(audit.rounds[0].stages.some((t: { stage: string }) => t.stage === 'sample'), 'timings of the stages that ran are kept');
  });

  test('a job writing garbage on its channel fails the campaign at once (no retries), named in history', async () => {
    const cfg = campaignConfig('e2e-garbage');
    cfg.stages.label.command = ['node', join(ROOT, 'examples/jobs/garbage.mjs')];
    const { handle } = await startOrAttach(env.client, cfg);
    await assert.rejects(handle.result());
    const history = cli(['history', 'e2e-garbage']);
    assert.equal(history.code, 0, history.err);
    assert.match(history.out, /channel line 2 is not a progress or log message: "epoch 1 loss=0.42"/);
    const files = [...(await fileTimes(join(work, 'artifacts', 'campaigns', 'e2e-garbage'))).keys()];
    assert.ok(!files.some((f) => f.startsWith('round-0001/label/')), `nothing published for the label stage: ${files.join(', ')}`);
  });
});
