// The command backend as real launchers need it (issue 20, items 2 and 3): the protocol on its own
// channel with stdout a plain log (and @1 jobs printing JSON on stdout still read), folder outputs
// and folder inputs, checkpoint files restored from the store on another host after a drain, slots
// and GPU devices, the job's environment allowlist, and the stable job key.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { runStage, type StageHost } from '../../../lib/stages/runner';
import { commandStage, jobDir, jobKey, jobName, type CommandStageOptions } from '../../../lib/stages/command/backend';
import { jobEnvironment } from '../../../lib/stages/command/env';
import { JobChannel } from '../../../lib/stages/command/channel';
import { SlotPool, slotPools } from '../../../lib/stages/command/slots';
import { isTreeRef, type TreeManifest } from '../../../lib/stages/command/outputs';
import type { ArtifactRef, StageRequest } from '../../../lib/stages/contract';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JOB = join(ROOT, 'examples/jobs/stage-job.mjs');
let work: string;
let store: ArtifactStore;
let generator: ArtifactRef;
let critic: ArtifactRef;

function request(campaignId: string, overrides: Partial<StageRequest> = {}): StageRequest {
  return { campaignId, round: 1, stage: 'evaluate', backend: 'command', command: ['node', JOB], inputs: { generator }, store: { root: store.root }, params: { steps: 3, stepDelayMs: 0 }, ...overrides };
}

const jobsDir = (host = 'a') => join(work, `jobs-${host}`);
function run(req: StageRequest, options: CommandStageOptions = {}, host?: Partial<StageHost>) {
  const quiet: StageHost = { attempt: 1, heartbeat: () => {}, signal: new AbortController().signal, log: () => {}, ...host };
  return runStage(req, { resolveImpl: async () => commandStage({ jobsDir: jobsDir(), killGraceMs: 500, ...options }), scratchRoot: join(work, 'scratch'), host: quiet });
}
const dirOf = (req: StageRequest, host = 'a') => jobDir(jobsDir(host), { request: req });

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A job that writes its environment as its output (validate needs no output: the report is extra). */
async function envJob(): Promise<string> {
  const script = join(work, 'env-job.mjs');
  await writeFile(
    script,
    `import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';\n` +
      `const r = JSON.parse(readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));\n` +
      `appendFileSync(r.params.log, 'start ' + process.env.DUAL_IPO_JOB_DIR + '\\n');\n` +
      `await new Promise((res) => setTimeout(res, Number(r.params.holdMs ?? 0)));\n` +
      `writeFileSync(r.outputDir + '/env.json', JSON.stringify(process.env));\n` +
      `appendFileSync(r.params.log, 'end ' + process.env.DUAL_IPO_JOB_DIR + '\\n');\n` +
      `writeFileSync(r.resultFile, JSON.stringify({ outputs: { env: { path: 'env.json' } }, metrics: { agreementPairwise: 1 } }));\n`,
  );
  return script;
}
const envOf = async (ref: ArtifactRef) => store.getJson<Record<string, string>>(ref);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-launchers-'));
  store = openStore(join(work, 'artifacts'));
  generator = await store.putJson('inputs/generator.json', { quality: 70 });
  critic = await store.putJson('inputs/critic.json', { accuracy: 0.8 });
});

describe('command backend: channel and logs', { timeout: 120_000 }, () => {
  test('DeepSpeed- and torchrun-style lines on stdout are a log; the protocol comes from the channel', async () => {
    const beats: number[] = [];
    const req = request('chatty', { params: { steps: 3, stepDelayMs: 0, chatty: true } });
    const result = await run(req, {}, { heartbeat: (d) => void beats.push(d.done) });
    assert.equal(result.metrics.total, 70);
    const stdout = await readFile(join(dirOf(req), 'stdout.log'), 'utf8');
    assert.match(stdout, /^\[2026-12-04 10:00:00,000\] \[INFO\] \[engine\.py:123:evaluate\] step=1/m);
    assert.match(stdout, /^\[rank0\]: step=3/m);
    assert.ok(beats.includes(3), `heartbeats ${beats.join()}`);
    assert.equal((await readFile(join(dirOf(req), 'channel.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"progress"')).length, 3);
  });

  test('a contract @1 job printing its protocol on stdout still reports progress and checkpoints', async () => {
    const checkpoints: unknown[] = [];
    const req = request('legacy', { params: { steps: 3, stepDelayMs: 0, protocol: 'stdout', chatty: true } });
    const result = await run(req, {}, { heartbeat: (d) => void checkpoints.push(d.checkpoint) });
    assert.equal(result.metrics.total, 70);
    assert.ok(!existsSync(join(dirOf(req), 'channel.jsonl')));
    assert.deepEqual(checkpoints.at(-1), { step: 3 });
    assert.deepEqual(await store.getJson(await store.head('campaigns/legacy/round-0001/evaluate/checkpoint.json').then((r) => r!)), { step: 3 });
  });

  test('@1 protocol lines under torchrun\'s rank prefixes are read; other stdout lines, JSON or not, are logs', async () => {
    const dir = await mkdtemp(join(work, 'channel-'));
    const stdout = join(dir, 'stdout.log');
    await writeFile(stdout, ['[rank0]: {"type": "progress", "done": 1, "total": 4, "checkpoint": {"step": 1}}', '[default0]:{"type": "log", "message": "hi"}', '{"loss": 0.4}', 'plain text', '{"type": "progress", "done": 2, "total": 4}', ''].join('\n'));
    const channel = new JobChannel(join(dir, 'channel.jsonl'), stdout);
    assert.deepEqual(await channel.read(), [
      { type: 'progress', done: 1, total: 4, checkpoint: { step: 1 } },
      { type: 'log', message: 'hi' },
      { type: 'progress', done: 2, total: 4 },
    ]);
    // Once the channel exists, stdout is only a log.
    await writeFile(join(dir, 'channel.jsonl'), '{"type": "progress", "done": 3, "total": 4}\n');
    await writeFile(stdout, '{"type": "progress", "done": 9, "total": 9}\n', { flag: 'a' });
    assert.deepEqual(await channel.read(), [{ type: 'progress', done: 3, total: 4 }]);
  });

  test('a failing job\'s message quotes the tails of stdout.log and stderr.log', async () => {
    const script = join(work, 'fail-chatty.mjs');
    await writeFile(script, `console.log('[rank0]: loading shard 3 of 8');\nconsole.error('RuntimeError: NCCL timeout');\nprocess.exit(7);\n`);
    await assert.rejects(run(request('fail-chatty', { command: ['node', script] })), (err: Error) => {
      assert.match(err.message, /exited with code 7/);
      assert.match(err.message, /stdout:\n\[rank0\]: loading shard 3 of 8/);
      assert.match(err.message, /stderr:\nRuntimeError: NCCL timeout/);
      return true;
    });
  });
});

describe('command backend: folder outputs and inputs', { timeout: 120_000 }, () => {
  test('a folder output is published as a tree with per-file sha256, and the next job gets a folder', async () => {
    const sample = await run(request('tree', { stage: 'sample', params: { steps: 1, stepDelayMs: 0, folderOutputs: true, chatty: true } }));
    const samples = sample.outputs.samples!;
    assert.ok(isTreeRef(samples), JSON.stringify(samples.summary));
    const manifest = await store.getJson<TreeManifest>(samples);
    assert.deepEqual(manifest.files.map((f) => f.path), ['extra/config.json', 'main.json']);
    assert.equal(samples.summary?.files, 2);
    for (const f of manifest.files) assert.equal((await store.head(`campaigns/tree/round-0001/sample/samples.d/${f.path}`))?.sha256, f.sha256);

    const labelReq = request('tree', { stage: 'label', inputs: { critic, samples }, params: { steps: 1, stepDelayMs: 0 } });
    const label = await run(labelReq);
    assert.ok(label.metrics.pairs! > 0);
    const sent = JSON.parse(await readFile(join(dirOf(labelReq), 'request.json'), 'utf8'));
    assert.ok(statSync(sent.inputs.samples.path).isDirectory(), sent.inputs.samples.path);
    assert.equal(sent.inputs.samples.path, join(jobsDir(), '.cache', 'trees', samples.sha256));
    // Blobs in the host cache are named by their sha256 and shared by later jobs.
    const blobs = await readdir(join(jobsDir(), '.cache', 'sha256'));
    assert.deepEqual(blobs.sort(), manifest.files.map((f) => f.sha256).sort());
  });

  test('a link inside a folder output is refused and nothing is published', async () => {
    const script = join(work, 'tree-link.mjs');
    await writeFile(
      script,
      `import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';\nconst r = JSON.parse(readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));\n` +
        `mkdirSync(r.outputDir + '/model');\nwriteFileSync(r.outputDir + '/model/a.bin', 'x');\nsymlinkSync('/etc/passwd', r.outputDir + '/model/b.bin');\n` +
        `writeFileSync(r.resultFile, JSON.stringify({ outputs: { scores: { path: 'model' } }, metrics: { total: 1 } }));\n`,
    );
    await assert.rejects(run(request('tree-link', { command: ['node', script] })), /folder holds a symbolic link \(b\.bin\)/);
    assert.deepEqual(await store.list('campaigns/tree-link/'), []);
  });

  test('the Python kit\'s output_dir: a folder output as it is, or its .tar with archive=True', async (t) => {
    if (spawnSync('python3', ['--version']).status !== 0) return t.skip('no python3');
    const script = join(work, 'kit-job.py');
    await writeFile(
      script,
      'from dual_ipo_jobs import Job\nimport os\n' +
        'with Job() as job:\n' +
        '    job.progress(1, 1, "saved", checkpoint={"step": 1})\n' +
        '    with job.output_dir("scores", output="scores", archive=job.params.get("archive", False)) as d:\n' +
        '        open(os.path.join(d, "config.json"), "w").write("{}")\n' +
        '        os.makedirs(os.path.join(d, "weights"))\n' +
        '        open(os.path.join(d, "weights", "adapter.safetensors"), "wb").write(b"\\0" * 64)\n' +
        '    job.finish(metrics={"total": 1.0})\n',
    );
    const env = { ...process.env, PYTHONPATH: join(ROOT, 'python') };
    const folder = await run(request('kit-folder', { command: ['python3', script] }), { workerEnv: env });
    assert.deepEqual((await store.getJson<TreeManifest>(folder.outputs.scores!)).files.map((f) => f.path), ['config.json', 'weights/adapter.safetensors']);
    const tar = await run(request('kit-tar', { command: ['python3', script], params: { archive: true } }), { workerEnv: env });
    assert.ok(!isTreeRef(tar.outputs.scores!));
    assert.match(tar.outputs.scores!.uri, /kit-tar\/round-0001\/evaluate\/scores$/);
    assert.ok(tar.outputs.scores!.size > 1024, 'a tar file');
  });
});

describe('command backend: drain and checkpoint files', { timeout: 120_000 }, () => {
  test('a drained job checkpoints with its file; the retry on another host gets the file from the store and resumes', async () => {
    const req = request('drain', { params: { steps: 40, stepDelayMs: 100, checkpointFiles: true } });
    const drain = new AbortController();
    const drained = run(req, { drain: { signal: drain.signal, graceMs: 5_000 } }, {
      heartbeat: (d) => {
        if (d.done >= 3) drain.abort();
      },
    });
    await assert.rejects(drained, (err: Error) => {
      assert.equal(err.name, 'WorkerDrained');
      assert.match(err.message, /stopped by the worker's drain \(exit 75\)/);
      return true;
    });
    const persisted = await store.getJson<{ format: string; value: { step: number; file: string }; files: Record<string, ArtifactRef> }>((await store.head('campaigns/drain/round-0001/evaluate/checkpoint.json'))!);
    assert.equal(persisted.format, 'dual-ipo/checkpoint@2');
    const step = persisted.value.step;
    assert.ok(step >= 3 && step < 40, `checkpointed at ${step}`);
    assert.deepEqual(Object.keys(persisted.files), [`step-${step}.bin`]);
    assert.match(persisted.files[`step-${step}.bin`]!.uri, /campaigns\/drain\/round-0001\/evaluate\/checkpoint\/step-\d+\.bin$/);

    // Host b has never seen this job: the file must come from the store.
    const resumed = await run(req, { jobsDir: jobsDir('b') });
    assert.equal(resumed.metrics.total, 70);
    // The job itself checks the restored file's content (it exits 4 when it is missing or wrong).
    const channel = await readFile(join(dirOf(req, 'b'), 'channel.jsonl'), 'utf8');
    assert.match(channel, new RegExp(`restored step-${step}\\.bin from the checkpoint`));
    assert.match(channel, new RegExp(`resuming evaluate at step ${step}`));
  });
});

describe('command backend: the end of a drain', { timeout: 60_000 }, () => {
  test('a job that ignores SIGTERM is stopped when the SDK cancels at the end of the drain, and that is still a drain', async () => {
    const script = join(work, 'stubborn.mjs');
    await writeFile(script, `import { appendFileSync } from 'node:fs';\nprocess.on('SIGTERM', () => {});\nappendFileSync(process.env.DUAL_IPO_CHANNEL, JSON.stringify({ type: 'progress', done: 1, total: 9, checkpoint: { step: 1 } }) + '\\n');\nsetInterval(() => {}, 1000);\n`);
    const drain = new AbortController();
    const host = new AbortController();
    const req = request('stubborn', { command: ['node', script], drainRestarts: true });
    const running = run(req, { drain: { signal: drain.signal, graceMs: 60_000 } }, {
      signal: host.signal,
      heartbeat: (d) => {
        if (d.done < 1 || drain.signal.aborted) return;
        drain.abort();
        setTimeout(() => host.abort(new Error('WORKER_SHUTDOWN')), 300);
      },
    });
    await assert.rejects(running, (err: Error & { nonRetryable?: boolean }) => err.name === 'WorkerDrained' && /end of the worker's drain/.test(err.message) && err.nonRetryable === true);
    assert.equal((await readFile(join(dirOf(req), 'stop-reason'), 'utf8')).trim(), 'drain');
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
    await until('the job to be gone', () => {
      try {
        process.kill(-job.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });
});

describe('command backend: slots and GPUs', { timeout: 120_000 }, () => {
  test('GPU jobs see their own devices; a 2-GPU job waits until both are free, first come first served', async () => {
    const script = await envJob();
    const log = join(work, 'slots.log');
    const pool = new SlotPool({ name: 'gpu', devices: ['3', '5'], size: 2 }, join(work, 'slots'));
    const one = request('gpu-one', { stage: 'validate', command: ['node', script], params: { log, holdMs: 1500 } });
    const two = request('gpu-two', { stage: 'validate', command: ['node', script], params: { log }, gpusPerJob: 2 });
    const first = run(one, { slots: pool });
    await until('the first job to start', async () => (await readFile(log, 'utf8').catch(() => '')).includes('start'));
    const second = await run(two, { slots: pool });
    const firstResult = await first;
    const env1 = await envOf(firstResult.outputs.env!);
    const env2 = await envOf(second.outputs.env!);
    assert.equal(env1.CUDA_VISIBLE_DEVICES, '3');
    assert.equal(env1.DUAL_IPO_SLOT, '0');
    assert.equal(env1.DUAL_IPO_GPUS, '1');
    assert.equal(env2.CUDA_VISIBLE_DEVICES, '3,5');
    assert.equal(env2.DUAL_IPO_GPUS, '2');
    const order = (await readFile(log, 'utf8')).trim().split('\n').map((l) => l.split(' ')[0] + ' ' + (l.includes('gpu-one') ? 1 : 2));
    assert.deepEqual(order, ['start 1', 'end 1', 'start 2', 'end 2'], 'the 2-GPU job started after the first ended');
    assert.deepEqual(await readdir(join(work, 'slots')), [], 'every lease was released');
  });

  test('a job whose worker died keeps its GPU: a new worker on the host waits for it, and the re-attached job keeps its device', async () => {
    const script = await envJob();
    const log = join(work, 'reattach-slots.log');
    const spec = { name: 'gpu', devices: ['4', '6'], size: 2 };
    const dir = join(work, 'slots-reattach');
    const orphan = request('gpu-orphan', { stage: 'validate', command: ['node', script], params: { log, holdMs: 2500 } });
    const worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/run-stage-child.ts'), JSON.stringify(orphan), jobsDir(), JSON.stringify({ spec, dir })], { cwd: ROOT, stdio: 'ignore' });
    await until('the job to start', async () => (await readFile(log, 'utf8').catch(() => '')).includes('start'));
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    // A restarted worker (a new pool over the same leases): a 2-GPU job must wait for the orphan.
    const pool = new SlotPool(spec, dir);
    const both = run(request('gpu-both', { stage: 'validate', command: ['node', script], params: { log }, gpusPerJob: 2 }), { slots: pool });
    const reattached = await run(orphan, { slots: pool });
    const env = await envOf(reattached.outputs.env!);
    assert.equal(env.CUDA_VISIBLE_DEVICES, '4');
    assert.deepEqual(JSON.parse(await readFile(join(dirOf(orphan), 'job.json'), 'utf8')).slots, { pool: 'gpu', slots: [0], devices: ['4'] });
    assert.equal((await envOf((await both).outputs.env!)).CUDA_VISIBLE_DEVICES, '4,6');
    const order = (await readFile(log, 'utf8')).trim().split('\n').map((l) => `${l.split(' ')[0]} ${l.includes('gpu-orphan') ? 'orphan' : 'both'}`);
    assert.deepEqual(order, ['start orphan', 'end orphan', 'start both', 'end both']);
  });

  test('a job waiting for slots when its worker drains is not started: it goes elsewhere', async () => {
    const script = await envJob();
    const log = join(work, 'drain-wait.log');
    const pool = new SlotPool({ name: 'gpu', devices: ['0'], size: 1 }, join(work, 'slots-drain'));
    const drain = new AbortController();
    const holder = run(request('gpu-holder', { stage: 'validate', command: ['node', script], params: { log, holdMs: 1500 } }), { slots: pool });
    await until('the holder to start', async () => (await readFile(log, 'utf8').catch(() => '')).includes('start'));
    const waiter = request('gpu-waiter', { stage: 'validate', command: ['node', script], params: { log }, drainRestarts: true });
    const waiting = run(waiter, { slots: pool, drain: { signal: drain.signal, graceMs: 1000 } });
    setTimeout(() => drain.abort(), 300);
    await assert.rejects(waiting, (err: Error & { nonRetryable?: boolean }) => err.name === 'WorkerDrained' && /not started, the worker is draining/.test(err.message) && err.nonRetryable === true);
    await holder;
    assert.ok(!existsSync(join(dirOf(waiter), 'job.json')), 'the waiting job never started');
    assert.deepEqual(await readdir(join(work, 'slots-drain')), []);
  });

  test('more GPUs than the queue has is a non-retryable error naming gpusPerJob', async () => {
    const pool = new SlotPool({ name: 'gpu', devices: ['0'], size: 1 }, join(work, 'slots-small'));
    await assert.rejects(run(request('gpu-many', { gpusPerJob: 4 }), { slots: pool }), (err: Error & { nonRetryable?: boolean }) => {
      assert.match(err.message, /stages\.evaluate\.gpusPerJob: 4 slots asked for, the gpu pool of this worker has 1/);
      assert.equal(err.nonRetryable, true);
      return true;
    });
  });

  test('gpu queues share the host\'s devices; other queues have their own slots', () => {
    const pools = slotPools([{ name: 'gpu', concurrency: 8 }, { name: 'gpu-node', concurrency: 1 }, { name: 'cpu', concurrency: 2 }], join(work, 'p'), undefined);
    assert.equal(pools.get('gpu'), pools.get('gpu-node'));
    assert.deepEqual(pools.get('gpu')!.spec.devices, ['0', '1', '2', '3', '4', '5', '6', '7']);
    assert.equal(pools.get('cpu')!.spec.size, 2);
    assert.equal(pools.get('cpu')!.spec.devices, undefined);
    assert.deepEqual(slotPools([{ name: 'gpu', concurrency: 2 }], join(work, 'p'), ['6', '7']).get('gpu')!.spec.devices, ['6', '7']);
  });
});

describe('command backend: the job\'s environment and key', { timeout: 60_000 }, () => {
  const worker = {
    PATH: process.env.PATH!,
    HOME: '/home/w',
    TEMPORAL_API_KEY: 'tk',
    TEMPORAL_TLS_KEY: '/etc/tls.key',
    AWS_SECRET_ACCESS_KEY: 'aws',
    AWS_REGION: 'us-east-1',
    HF_TOKEN: 'hf',
    WANDB_API_KEY: 'wb',
    WANDB_PROJECT: 'p',
    NCCL_DEBUG: 'INFO',
    CUDA_HOME: '/usr/local/cuda',
    PYTHONPATH: '/py',
    DUAL_IPO_DATA_DIR: '/data',
    SOMETHING_ELSE: 'x',
  };

  test('an allowlist: the basics, Python, CUDA and NCCL pass; the worker\'s credentials do not unless named exactly', () => {
    const env = jobEnvironment(worker, undefined, { DUAL_IPO_JOB_KEY: 'k' });
    assert.deepEqual(Object.keys(env).sort(), ['CUDA_HOME', 'DUAL_IPO_JOB_KEY', 'HOME', 'NCCL_DEBUG', 'PATH', 'PYTHONPATH']);
    const wide = jobEnvironment(worker, { allow: ['WANDB_*', 'HF_TOKEN'], set: { OMP_NUM_THREADS: '4' } }, {});
    assert.equal(wide.WANDB_PROJECT, 'p');
    assert.equal(wide.WANDB_API_KEY, undefined, 'a pattern never lets a secret through');
    assert.equal(wide.HF_TOKEN, 'hf', 'named exactly: passed');
    assert.equal(wide.OMP_NUM_THREADS, '4');
    assert.equal(wide.TEMPORAL_API_KEY, undefined);
    assert.equal(jobEnvironment(worker, { allow: ['*KEY*'] }, {}).TEMPORAL_API_KEY, undefined);
  });

  test('a job runs with that environment and the backend\'s DUAL_IPO_* variables', async () => {
    const script = await envJob();
    const req = request('env', { stage: 'validate', command: ['node', script], params: { log: join(work, 'env.log') }, env: { allow: ['WANDB_*'], set: { MY_SETTING: 'on' } } });
    const result = await run(req, { workerEnv: worker });
    const env = await envOf(result.outputs.env!);
    for (const name of ['TEMPORAL_API_KEY', 'TEMPORAL_TLS_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'HF_TOKEN', 'WANDB_API_KEY', 'DUAL_IPO_DATA_DIR', 'SOMETHING_ELSE']) assert.equal(env[name], undefined, name);
    assert.equal(env.WANDB_PROJECT, 'p');
    assert.equal(env.MY_SETTING, 'on');
    assert.equal(env.DUAL_IPO_JOB_KEY, jobKey(req));
    assert.equal(env.DUAL_IPO_CHANNEL, join(dirOf(req), 'channel.jsonl'));
    assert.equal(env.DUAL_IPO_CHECKPOINT_DIR, join(dirOf(req), 'ckpt'));
    assert.equal(env.CUDA_VISIBLE_DEVICES, undefined, 'no slot pool: no devices');
  });

  test('the job key is stable for a request, differs for another, and its name is a DNS-1123 label', () => {
    const a = request('Key_Campaign.With.Dots-and-a-very-long-name-indeed', { stage: 'generatorTrain', step: 'pseudo' });
    assert.equal(jobKey(a), jobKey({ ...a }));
    assert.match(jobKey(a), /^Key_Campaign\.With\.Dots-and-a-very-long-name-indeed\/round-0001\/generatorTrain-pseudo\/[0-9a-f]{12}$/);
    assert.notEqual(jobKey(a), jobKey({ ...a, params: { steps: 4 } }));
    const shard = { ...a, shard: { index: 12, count: 20, from: 0, to: 1 } };
    assert.match(jobKey(shard), /\/shard-00012\//);
    for (const req of [a, shard]) {
      const name = jobName(jobKey(req));
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(name.length <= 63, name);
    }
    assert.notEqual(jobName(jobKey(a)), jobName(jobKey(shard)));
  });
});
