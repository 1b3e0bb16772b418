// Issue 19: faults found by hostile testing, at the stage layer. A job's outcome answers only the
// request that started it; a refused result is never reused and never reaches the store; links and
// paths out of the output folder are refused; a lost server leaves an external job running; a
// program that does not exist is refused at once; store errors name the stage; short stages keep
// their checkpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { runStage, StageError } from '../../../lib/stages/runner';
import { commandStage, jobDir } from '../../../lib/stages/command/backend';
import { alive } from '../../../lib/stages/command/process';
import { until } from '../../helpers/until';
import type { ArtifactRef, StageRequest, StageResult } from '../../../lib/stages/contract';
import { runStageActivity } from '../../../activities/stage-activity';
import { checkCommands, parseConfig } from '../../../config/load';
import { preflight } from '../../../lib/campaign/host';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JOB = join(ROOT, 'examples/jobs/stage-job.mjs');
let work: string;
let store: ArtifactStore;
let generator: ArtifactRef;

const jobsDir = () => join(work, 'jobs');
const deps = () => ({ resolveImpl: async () => commandStage({ jobsDir: jobsDir(), killGraceMs: 500 }), scratchRoot: join(work, 'scratch') });
const run = (req: StageRequest, s: ArtifactStore = store) => runStage({ ...req, store: { root: s.root } }, deps());
const dirOf = (req: StageRequest) => jobDir(jobsDir(), { request: req });
const runsOf = async (dir: string) => (await readFile(join(dir, 'runs.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length;
function request(campaignId: string, overrides: Partial<StageRequest> = {}): StageRequest {
  return { campaignId, round: 1, stage: 'evaluate', backend: 'command', command: ['node', JOB], inputs: { generator }, store: { root: store.root }, params: { steps: 3, stepDelayMs: 0 }, ...overrides };
}

// A sample job whose result is malformed in the way its mode file says; 'good' is the fix.
const MALFORMED = `import { appendFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
const r = JSON.parse(readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));
appendFileSync(process.env.DUAL_IPO_JOB_DIR + '/runs.log', process.pid + '\\n');
const mode = readFileSync(process.argv[2], 'utf8').trim();
writeFileSync(r.outputDir + '/samples.json', JSON.stringify([1, 2, 3]));
const ok = { outputs: { samples: { path: 'samples.json' } }, metrics: { videos: 3 } };
const write = (v) => writeFileSync(r.resultFile, typeof v === 'string' ? v : JSON.stringify(v));
switch (mode) {
  case 'good': write(ok); break;
  case 'no-path': write({ outputs: { samples: {} }, metrics: {} }); break;
  case 'string-metric': write({ ...ok, metrics: { videos: 'three' } }); break;
  case 'outputs-array': write({ outputs: [{ path: 'samples.json' }], metrics: {} }); break;
  case 'not-json': write('{"outputs": '); break;
  case 'missing-file': write({ outputs: { samples: { path: 'nowhere.json' } } }); break;
  case 'no-result': break;
  case 'dotdot': write({ outputs: { samples: { path: '../../../../../../../../../../etc/passwd' } } }); break;
  case 'absolute': write({ outputs: { samples: { path: '/etc/passwd' } } }); break;
  case 'symlink': symlinkSync('/etc/passwd', r.outputDir + '/link.json'); write({ outputs: { samples: { path: 'link.json' } } }); break;
  case 'linked-folder': symlinkSync('/etc', r.outputDir + '/etcdir'); write({ outputs: { samples: { path: 'etcdir/passwd' } } }); break;
  case 'missing-required': writeFileSync(r.outputDir + '/other.json', '{}'); write({ outputs: { other: { path: 'other.json' } }, metrics: {} }); break;
}
`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-job-faults-'));
  store = openStore(join(work, 'artifacts'));
  generator = await store.putJson('inputs/generator.json', { quality: 70 });
  await writeFile(join(work, 'malformed.mjs'), MALFORMED);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const nonRetryable = (pattern: RegExp) => (err: StageError) => {
  assert.equal(err.nonRetryable, true, err.message);
  assert.match(err.message, pattern);
  return true;
};

describe('issue 19: a bad job never blocks a campaign and never reaches the store', { timeout: 180_000 }, () => {
  const cases: Array<[string, RegExp]> = [
    ['no-path', /result output "samples" has no "path"/],
    ['string-metric', /result metric "videos" is not a number/],
    ['outputs-array', /result "outputs" is not an object/],
    ['not-json', /not valid JSON/],
    ['missing-file', /result output "samples" file .*nowhere\.json does not exist/],
    ['no-result', /result file .* is missing/],
    ['dotdot', /escapes the output folder/],
    ['absolute', /escapes the output folder/],
    ['symlink', /is a symbolic link/],
    ['linked-folder', /leads out of the output folder through a link/],
    ['missing-required', /lacks the output "samples" that stage sample must return \(got: other\)/],
  ];
  for (const [mode, message] of cases) {
    test(`malformed result (${mode}): refused, nothing published; fixed in place, the next run runs the job again and succeeds`, async () => {
      const modeFile = join(work, `mode-${mode}`);
      await writeFile(modeFile, mode);
      const req = request(`malformed-${mode}`, { stage: 'sample', command: ['node', join(work, 'malformed.mjs'), modeFile] });
      await assert.rejects(run(req), nonRetryable(message));
      assert.deepEqual(await store.list(`campaigns/malformed-${mode}/`), [], 'no result.json, no stray output');
      await writeFile(modeFile, 'good');
      const result = await run(req);
      assert.equal(result.reused, false);
      assert.deepEqual(Object.keys(result.outputs), ['samples']);
      assert.equal(await runsOf(dirOf(req)), 2, 'the fixed job ran once more, its refused result was not reused');
    });
  }

  test('a changed command is not answered with the old command\'s finished job', async () => {
    const modeFile = join(work, 'mode-changed');
    await writeFile(modeFile, 'no-path');
    const req = request('changed-command', { stage: 'sample', command: ['node', join(work, 'malformed.mjs'), modeFile] });
    await assert.rejects(run(req), /has no "path"/);
    // The fix is a different command (the working example job); the old folder is kept aside.
    const fixed = { ...req, command: ['node', JOB] };
    const result = await run(fixed);
    assert.equal(result.metrics.videos, 16);
    const siblings = await readdir(join(dirOf(req), '..'));
    assert.ok(siblings.some((d) => d.startsWith('sample.superseded-')), siblings.join(', '));
  });

  test('a finished job answers only its own request: other inputs or params run the job anew', async () => {
    const other = openStore(join(work, 'artifacts-other'));
    const req = request('changed-request');
    assert.equal((await run(req)).metrics.total, 70);
    // Same campaign, round and stage, a different generator (e.g. a new store, or a changed config).
    const better = await other.putJson('inputs/generator.json', { quality: 80 });
    const result = await run({ ...req, inputs: { generator: better } }, other);
    assert.equal(result.metrics.total, 80, 'the old job\'s result was not collected for a different request');
    assert.equal(await runsOf(dirOf(req)), 1);
  });

  test('a result committed without a required output (older versions) is not reused', async () => {
    const req = request('committed-bad', { stage: 'sample' });
    await store.put('campaigns/committed-bad/round-0001/sample/result.json', JSON.stringify({ stage: 'sample', outputKeyPrefix: 'campaigns/committed-bad/round-0001/sample/', outputs: {}, metrics: {}, startedAt: '', seconds: 0, reused: false }));
    const result = await run(req);
    assert.equal(result.reused, false);
    assert.ok(result.outputs.samples);
  });

  test('a builtin-style stage returning no required output commits no result.json', async () => {
    const req = request('builtin-bad', { stage: 'label', backend: 'builtin' });
    await assert.rejects(
      runStage(req, { resolveImpl: () => async () => ({ outputs: {}, metrics: {} }), scratchRoot: join(work, 'scratch') }),
      nonRetryable(/label \(round 1, backend builtin\): returned no output named "labels"/),
    );
    assert.equal(await store.exists('campaigns/builtin-bad/round-0001/label/result.json'), false);
  });

  test('a command that does not exist is refused at once, without retries, and no job starts', async () => {
    const req = request('no-such-command', { command: ['definitely-not-a-program-dual-ipo'] });
    await assert.rejects(run(req), nonRetryable(/command "definitely-not-a-program-dual-ipo" not found/));
    assert.ok(!existsSync(join(dirOf(req), 'job.json')));
    await assert.rejects(run(request('no-such-file', { command: ['./no/such/trainer.sh'] })), nonRetryable(/not found/));
  });

  test('before its workers start, the host refuses a command whose program does not exist, naming stages.<stage>.command', () => {
    const config = (stage: string, command: string[]) => parseConfig({ stages: { [stage]: { backend: 'command', command } } }, 'c.yaml');
    assert.throws(() => checkCommands(config('sample', ['no-such-trainer-dual-ipo', 'x']), 'c.yaml'), /c\.yaml: stages\.sample\.command: program "no-such-trainer-dual-ipo" not found/);
    assert.throws(() => checkCommands(config('label', ['./nope/train.sh']), 'c.yaml'), /stages\.label\.command/);
    checkCommands(config('sample', ['node', 'examples/jobs/stage-job.mjs']), 'c.yaml');
  });

  test('a store error names the stage', async () => {
    // A store whose root lies under a file: every write fails with the file system's ENOTDIR.
    const req = request('store-error', { stage: 'sample', backend: 'builtin', store: { root: '/etc/hostname/store' } });
    const samples: ArtifactRef = { uri: 'file:///x', sha256: 'a'.repeat(64), size: 1 };
    await assert.rejects(runStage(req, { resolveImpl: () => async () => ({ outputs: { samples }, metrics: {} }), scratchRoot: join(work, 'scratch') }), (err: Error) => {
      assert.match(err.message, /^sample \(round 1\): artifact store file:\/\/\/etc\/hostname\/store: put \S*result\.json: ENOTDIR/);
      return true;
    });
  });

  test('the last checkpoint before a failure reaches the store, not only the first', async () => {
    const req = request('short-stage', { stage: 'sample', backend: 'builtin' });
    const impl = async (ctx: Parameters<Parameters<typeof runStage>[1]['resolveImpl'] extends (r: StageRequest) => infer I ? Awaited<I> : never>[0]) => {
      for (let step = 1; step <= 5; step++) await ctx.progress(step, 10, { step });
      throw new Error('node lost');
    };
    await assert.rejects(runStage(req, { resolveImpl: () => impl, scratchRoot: join(work, 'scratch') }), /node lost/);
    assert.deepEqual(await store.getJson(await store.head('campaigns/short-stage/round-0001/sample/checkpoint.json').then((r) => r!)), { step: 5 });
  });

  test('preflight names artifacts.root when the store cannot be written', async () => {
    const config = parseConfig({ artifacts: { root: '/etc/hostname/store' } }, 'c.yaml');
    await assert.rejects(preflight([config]), /artifacts\.root = \/etc\/hostname\/store cannot be used: artifact store file:\/\/\/etc\/hostname\/store: put/);
    await preflight([parseConfig({ artifacts: { root: join(work, 'writable') } }, 'c.yaml')]);
  });
});

describe('issue 19: a Temporal outage does not stop an external job', { timeout: 120_000 }, () => {
  async function startUnderActivity(campaignId: string) {
    const req = request(campaignId, { params: { steps: 40, stepDelayMs: 100 } });
    const env = new MockActivityEnvironment({ attempt: 1 });
    const running = env.run(runStageActivity, req, deps());
    await until('the job to report progress', async () => (await readFile(join(dirOf(req), 'channel.jsonl'), 'utf8').catch(() => '')).includes('"progress"'));
    const job = JSON.parse(await readFile(join(dirOf(req), 'job.json'), 'utf8')) as { pid: number };
    return { req, env, running, job };
  }

  for (const [reason, details] of [
    ['TIMED_OUT', { timedOut: true }],
    ['NOT_FOUND', { notFound: true }],
  ] as const) {
    test(`an activity cancelled for ${reason} (heartbeat lost) leaves the job running; the retry re-attaches`, async () => {
      const { req, env, running, job } = await startUnderActivity(`outage-${reason}`);
      env.cancel(reason, new ActivityCancellationDetails(details));
      await assert.rejects(running, /left running/);
      await new Promise((r) => setTimeout(r, 700)); // longer than the kill grace: nothing stops it late
      assert.ok(alive(job.pid), 'the job survived the lost heartbeat');
      const result: StageResult = await run(req);
      assert.equal(result.metrics.total, 70);
      assert.equal(await runsOf(dirOf(req)), 1, 'the job ran once: re-attached, not restarted');
      assert.ok(!existsSync(join(dirOf(req), 'attempt-1')), 'no restart happened');
    });
  }

  test('a real cancel request still stops the job', async () => {
    const { env, running, job } = await startUnderActivity('outage-cancel');
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    await assert.rejects(running, (err: Error) => !(err instanceof ApplicationFailure) || !/left running/.test(err.message));
    await until('the process group to end', () => !alive(job.pid), 5_000);
  });
});
