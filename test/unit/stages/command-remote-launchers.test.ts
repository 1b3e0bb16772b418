// The example launchers (examples/launchers/) as command-backend jobs against local stand-ins for the
// schedulers' CLIs (test/fixtures/fake-slurm, fake-kubectl; their state in a folder, so a launcher in
// another process sees the same jobs): they submit once per job key, and a launcher started after its
// worker and the previous launcher were killed re-attaches to the remote job instead of submitting it
// again; a drain leaves the remote job running for the retry, a cancellation stops it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { runStage, type StageHost } from '../../../lib/stages/runner';
import { commandStage, jobDir, jobName, jobKey, type CommandStageOptions } from '../../../lib/stages/command/backend';
import { alive } from '../../../lib/stages/command/process';
import { until } from '../../helpers/until';
import type { ArtifactRef, StageRequest } from '../../../lib/stages/contract';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JOB = join(ROOT, 'examples/jobs/stage-job.mjs');
let work: string;
let store: ArtifactStore;
let generator: ArtifactRef;

const SCHEDULERS = {
  slurm: { launcher: 'examples/launchers/slurm-torchrun.mjs', fake: 'test/fixtures/fake-slurm', stateVar: 'FAKE_SLURM_STATE', submissions: 'submissions.log' },
  kubernetes: { launcher: 'examples/launchers/kubernetes-job.mjs', fake: 'test/fixtures/fake-kubectl', stateVar: 'FAKE_KUBE_STATE', submissions: 'created.log' },
} as const;
type Scheduler = keyof typeof SCHEDULERS;

const jobsDir = () => join(work, 'jobs');
const stateDir = (s: Scheduler) => join(work, `state-${s}`);
/** The worker's environment: the fake CLI first on PATH, and where it keeps its state. */
const workerEnv = (s: Scheduler): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${join(ROOT, SCHEDULERS[s].fake)}${delimiter}${process.env.PATH}`, [SCHEDULERS[s].stateVar]: stateDir(s) });

function request(s: Scheduler, campaignId: string, params: Record<string, unknown> = {}): StageRequest {
  return {
    campaignId,
    round: 1,
    stage: 'evaluate',
    backend: 'command',
    command: ['node', join(ROOT, SCHEDULERS[s].launcher)],
    inputs: { generator },
    store: { root: store.root },
    params: { steps: 12, stepDelayMs: 150, launcher: { command: ['node', JOB], pollMs: 100, image: 'trainer:1' }, ...params },
    // The stand-ins' state folder is not on the default allowlist.
    env: { allow: [SCHEDULERS[s].stateVar] },
  };
}

function run(s: Scheduler, req: StageRequest, options: CommandStageOptions = {}, host: Partial<StageHost> = {}) {
  const quiet: StageHost = { attempt: 1, heartbeat: () => {}, signal: new AbortController().signal, log: () => {}, ...host };
  return runStage(req, { resolveImpl: async () => commandStage({ jobsDir: jobsDir(), killGraceMs: 10_000, workerEnv: workerEnv(s), ...options }), scratchRoot: join(work, 'scratch'), host: quiet });
}
const dirOf = (req: StageRequest) => jobDir(jobsDir(), { request: req });
const lines = async (path: string) => (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
const progressLines = async (req: StageRequest) => (await lines(join(dirOf(req), 'channel.jsonl'))).filter((l) => l.includes('"progress"')).length;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-remote-'));
  store = openStore(join(work, 'artifacts'));
  generator = await store.putJson('inputs/generator.json', { quality: 70 });
});

for (const s of Object.keys(SCHEDULERS) as Scheduler[]) {
  describe(`${s} launcher`, { timeout: 120_000 }, () => {
    test('the worker and its launcher killed mid-job: the next launcher re-attaches by job key, nothing is submitted twice', async () => {
      const req = request(s, `reattach-${s}`);
      const worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/run-stage-child.ts'), JSON.stringify(req), jobsDir()], { cwd: ROOT, stdio: 'ignore', env: workerEnv(s) });
      await until('two progress lines from the remote job', async () => (await progressLines(req)) >= 2);
      const launcher = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8'));
      worker.kill('SIGKILL');
      process.kill(-launcher.pid, 'SIGKILL'); // the launcher's host is gone; the remote job is not
      await until('the launcher to die', () => !alive(launcher.pid));

      const result = await run(s, req);
      assert.equal(result.metrics.total, 70);
      const submitted = await lines(join(stateDir(s), SCHEDULERS[s].submissions));
      assert.equal(submitted.length, 1, submitted.join('\n'));
      assert.match(submitted[0]!, new RegExp(jobName(jobKey(req))));
      assert.match(await readFile(join(dirOf(req), 'stdout.log'), 'utf8'), /re-attached to/);
      assert.equal((await lines(join(dirOf(req), 'runs.log'))).length, 1, 'the remote job ran once');
    });

    test('a drain leaves the remote job running and the retry follows it; a cancellation stops it', async () => {
      // As a workflow that restarts drained stages asks: the drained attempt fails without retry, and
      // the remote job is left alone all the same.
      const req = { ...request(s, `drain-${s}`), drainRestarts: true };
      const drain = new AbortController();
      await assert.rejects(
        run(s, req, { drain: { signal: drain.signal, graceMs: 5_000 } }, { heartbeat: (d) => void (d.done >= 2 && drain.abort()) }),
        (err: Error & { nonRetryable?: boolean }) => err.name === 'WorkerDrained' && err.nonRetryable === true,
      );
      const result = await run(s, req);
      assert.equal(result.metrics.total, 70);
      assert.equal((await lines(join(stateDir(s), SCHEDULERS[s].submissions))).filter((l) => l.includes(jobName(jobKey(req)))).length, 1);
      assert.equal((await lines(join(dirOf(req), 'runs.log'))).length, 1, 'the remote job ran once, through the drain');

      const cancelled = request(s, `cancel-${s}`, { steps: 200 });
      const controller = new AbortController();
      await assert.rejects(run(s, cancelled, {}, { signal: controller.signal, heartbeat: (d) => void (d.done >= 2 && controller.abort()) }), /cancelled/);
      const name = jobName(jobKey(cancelled));
      if (s === 'slurm') {
        const id = (await lines(join(stateDir(s), 'submissions.log'))).find((l) => l.includes(name))!.split(' ')[0];
        await readFile(join(stateDir(s), `${id}.cancelled`)); // scancel ran
      } else {
        assert.ok((await lines(join(stateDir(s), 'deleted.log'))).includes(name), 'kubectl delete job ran');
      }
    });
  });
}
