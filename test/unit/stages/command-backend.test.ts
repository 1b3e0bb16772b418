// The command backend against real child processes: the documented example jobs, a worker killed in
// the middle of a job (re-attach), a job killed with it (resume from checkpoint), cancellation,
// protocol garbage on the channel, failing exits and bad inputs. Channel, folder outputs, checkpoint
// files, drain, slots and the environment: command-launchers.test.ts.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { runStage } from '../../../lib/stages/runner';
import { commandStage, jobDir } from '../../../lib/stages/command/backend';
import { alive } from '../../../lib/stages/command/process';
import { until } from '../../helpers/until';
import type { ArtifactRef, StageContext, StageRequest } from '../../../lib/stages/contract';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JOB = join(ROOT, 'examples/jobs/stage-job.mjs');
let work: string;
let store: ArtifactStore;
let generator: ArtifactRef;

function request(campaignId: string, overrides: Partial<StageRequest> = {}): StageRequest {
  return {
    campaignId,
    round: 1,
    stage: 'evaluate',
    backend: 'command',
    command: ['node', JOB],
    inputs: { generator },
    store: { root: store.root },
    params: { steps: 3, stepDelayMs: 0 },
    ...overrides,
  };
}

const jobsDir = () => join(work, 'jobs');
const run = (req: StageRequest) => runStage(req, { resolveImpl: async () => commandStage({ jobsDir: jobsDir(), killGraceMs: 500 }), scratchRoot: join(work, 'scratch') });
const dirOf = (req: StageRequest) => jobDir(jobsDir(), { request: req });
const runs = async (req: StageRequest) => (await readFile(join(dirOf(req), 'runs.log'), 'utf8')).trim().split('\n');
async function progressLines(req: StageRequest): Promise<number> {
  const text = await readFile(join(dirOf(req), 'channel.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('"progress"')).length;
}

/** A worker process running the stage, to be SIGKILLed like a failed node. */
function childWorker(req: StageRequest) {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/run-stage-child.ts'), JSON.stringify(req), jobsDir()], { cwd: ROOT, stdio: 'ignore' });
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-command-'));
  store = openStore(join(work, 'artifacts'));
  generator = await store.putJson('inputs/generator.json', { quality: 70 });
});

describe('command backend', { timeout: 120_000 }, () => {
  test('runs the example job, publishes its outputs, and a rerun reuses them without starting the job', async () => {
    const req = request('ok');
    const result = await run(req);
    assert.equal(result.reused, false);
    assert.equal(result.metrics.total, 70);
    const scores = await store.getJson<Record<string, number>>(result.outputs.scores!);
    assert.equal(scores.quality, 71);
    assert.match(result.outputs.scores!.uri, /campaigns\/ok\/round-0001\/evaluate\/scores$/);
    const again = await run(req);
    assert.equal(again.reused, true);
    assert.deepEqual(again.outputs, result.outputs);
    assert.equal((await runs(req)).length, 1, 'the job ran once');
  });

  test('a worker killed mid-job: the next attempt re-attaches to the still-running job instead of starting it again', async () => {
    const req = request('reattach', { params: { steps: 12, stepDelayMs: 150 } });
    const worker = childWorker(req);
    await until('two progress lines', async () => (await progressLines(req)) >= 2);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
    assert.ok(alive(job.pid), 'the detached job survives its worker');
    const result = await run(req);
    assert.equal(result.metrics.total, 70);
    assert.equal((await runs(req)).length, 1, 'the job was not started twice');
    assert.ok(!existsSync(join(dirOf(req), 'attempt-1')), 'no restart happened');
  });

  test('a job that died with its worker restarts from its last checkpoint', async () => {
    const req = request('resume', { params: { steps: 12, stepDelayMs: 150 } });
    const worker = childWorker(req);
    await until('three progress lines', async () => (await progressLines(req)) >= 3);
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
    worker.kill('SIGKILL');
    process.kill(-job.pid, 'SIGKILL');
    await until('the job to die', () => !alive(job.pid));
    const reached = await progressLines(req);
    const result = await run(req);
    assert.equal(result.metrics.total, 70);
    assert.equal((await runs(req)).length, 2, 'started once more');
    const channel = await readFile(join(dirOf(req), 'channel.jsonl'), 'utf8');
    const resumedAt = Number(/resuming evaluate at step (\d+)/.exec(channel)?.[1]);
    assert.ok(resumedAt >= 3 && resumedAt <= reached, `resumed at step ${resumedAt} (had reached ${reached})`);
    assert.ok(existsSync(join(dirOf(req), 'attempt-1', 'channel.jsonl')), 'the first run\'s logs are kept');
  });

  test('cancellation ends the job\'s process group', async () => {
    const req = request('cancel', { params: { steps: 50, stepDelayMs: 200 } });
    const controller = new AbortController();
    const ctx: StageContext = {
      request: req,
      store,
      outputKey: (name) => `campaigns/cancel/round-0001/evaluate/${name}`,
      checkpoint: undefined,
      progress: async (done) => {
        if (done >= 2) controller.abort();
      },
      signal: controller.signal,
      scratchDir: join(work, 'scratch-cancel'),
      log: () => {},
    };
    await assert.rejects(commandStage({ jobsDir: jobsDir(), killGraceMs: 500 })(ctx), /cancelled; the job's process group was stopped/);
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
    await until('the process group to end', () => !alive(job.pid), 5_000);
  });

  test('a job writing garbage on its channel fails without retry, is killed, and publishes nothing', async () => {
    const req = request('garbage', { command: ['node', join(ROOT, 'examples/jobs/garbage.mjs')] });
    await assert.rejects(run(req), (err: ApplicationFailure) => {
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /channel line 2 is not a progress or log message: "epoch 1 loss=0.42"/);
      return true;
    });
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
    await until('the process group to end', () => !alive(job.pid), 5_000);
    assert.deepEqual(await store.list('campaigns/garbage/'), []);
  });

  test('a job exiting non-zero fails retryably with its exit code and stderr', async () => {
    const req = request('fails', { command: ['node', join(ROOT, 'examples/jobs/fail-exit.mjs')] });
    await assert.rejects(run(req), (err: ApplicationFailure) => {
      assert.equal(err.nonRetryable, false);
      assert.match(err.message, /exited with code 3/);
      assert.match(err.message, /CUDA error: out of memory/);
      return true;
    });
    assert.deepEqual(await store.list('campaigns/fails/'), []);
  });

  test('a result that names a missing output publishes nothing', async () => {
    const script = join(work, 'bad-result.mjs');
    await writeFile(
      script,
      `import { writeFileSync } from 'node:fs';\nconst r = JSON.parse((await import('node:fs')).readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));\n` +
        `writeFileSync(r.outputDir + '/a.json', '{}');\nwriteFileSync(r.resultFile, JSON.stringify({ outputs: { a: { path: 'a.json' }, b: { path: 'b.json' } }, metrics: { x: 1 } }));\n`,
    );
    // validate has no required outputs, so the missing file is the first problem found.
    const req = request('bad-result', { stage: 'validate', command: ['node', script] });
    await assert.rejects(run(req), /result output "b" file .*b\.json does not exist/);
    assert.deepEqual(await store.list('campaigns/bad-result/'), []);
  });

  test('NaN and Infinity in a result (as Python writes them) become non-finite metrics, not a syntax error', async () => {
    const script = join(work, 'nan-result.mjs');
    await writeFile(
      script,
      `import { readFileSync, writeFileSync } from 'node:fs';\nconst r = JSON.parse(readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));\n` +
        `writeFileSync(r.outputDir + '/generator.json', '{}');\n` +
        `writeFileSync(r.resultFile, '{"outputs": {"generator": {"path": "generator.json"}}, "metrics": {"lossFinal": NaN, "lossMax": Infinity, "lossFirst": 0.7}}');\n`,
    );
    const result = await run(request('nan-result', { stage: 'generatorTrain', command: ['node', script] }));
    assert.deepEqual(result.metrics, { lossFirst: 0.7, nonFiniteMetrics: 2 });
  });

  test('a missing or tampered input is refused by name before the job starts', async () => {
    const missing = { ...generator, uri: `${store.root}/inputs/nowhere.json` };
    await assert.rejects(run(request('missing-input', { inputs: { generator: missing } })), /input "generator" is missing: file:\/\/.*nowhere\.json/);
    const tampered = await store.putJson('inputs/tampered.json', { quality: 70 });
    await writeFile(new URL(tampered.uri), JSON.stringify({ quality: 99 }).padEnd(tampered.size));
    await assert.rejects(run(request('tampered-input', { inputs: { generator: tampered } })), /input "generator" .* fails its sha256 check/);
    assert.ok(!existsSync(join(jobsDir(), 'tampered-input', 'round-0001', 'evaluate', 'job.json')), 'the job never started');
    assert.deepEqual(await readdir(join(work, 'artifacts', 'campaigns')).then((d) => d.filter((x) => x.includes('input'))), []);
  });
});
