// Issue 19's fault-injection suite: the command example (config/examples/command-example.yaml, small)
// on a real dev server that this suite starts, SIGKILLs and restarts, with the workers in a child
// process that it SIGKILLs. Each campaign must complete after the retry or the fix, with every stage
// output byte-identical to an uninterrupted run, and no job run more often than its faults explain
// (examples/jobs/stage-job.mjs appends a line to runs.log in its job folder per run).
// docs/orchestration.md ("Faults and what survives them") states what these tests establish.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { parseConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { startOrAttach } from '../../lib/campaign/client';
import { ensureDevServer, type DevServer } from '../../lib/temporal/dev-server';
import { freePort } from '../../lib/free-port';
import type { CampaignResult } from '../../workflows/definitions';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(ROOT, 'config/examples/command-example.yaml');
const ORCH = 'faults-orch';
const CPU = 'faults-cpu';
let work: string;
let serverOpts: { dataDir: string; port: number; uiPort: number; timeoutMs: number };
let server: DevServer;
let connection: Connection;
let client: Client;
let worker: ChildProcess | undefined;

/** The command example, small: one round, quick steps, short heartbeat timeout (a lost worker costs 4 s). */
function exampleConfig(id: string, stageParams: Partial<Record<string, Record<string, unknown>>> = {}, commands: Partial<Record<string, string[]>> = {}): CampaignConfig {
  const raw = parseYaml(readFileSync(EXAMPLE, 'utf8')) as { campaign: Record<string, unknown>; generation: Record<string, unknown>; artifacts: Record<string, unknown>; stages: Record<string, Record<string, unknown>>; temporal?: Record<string, unknown> };
  raw.campaign = { ...raw.campaign, id, name: id, maxRounds: 1 };
  raw.generation = { promptsPerRound: 4, candidatesPerPrompt: 4, evalPrompts: 4 };
  raw.artifacts = { root: join(work, 'artifacts') };
  raw.temporal = { taskQueue: ORCH };
  for (const [stage, s] of Object.entries(raw.stages)) {
    raw.stages[stage] = { ...s, ...(commands[stage] ? { command: commands[stage] } : {}), taskQueue: CPU, heartbeatTimeout: '4s', maxAttempts: 5, params: { steps: 4, stepDelayMs: 50, ...stageParams[stage] } };
  }
  // Relative commands (examples/jobs/stage-job.mjs) are run from the worker's folder: the repo.
  return parseConfig(raw, EXAMPLE, dirname(EXAMPLE));
}

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'worker', '--queues', `${ORCH},${CPU}:2`, '--orchestration-queue', ORCH, '--jobs-dir', join(work, 'jobs')], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', DUAL_IPO_DATA_DIR: join(work, 'data') },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  worker = child;
  return child;
}

async function killWorker(): Promise<void> {
  const w = worker;
  if (!w || w.exitCode !== null || w.signalCode !== null) return;
  const exited = new Promise((r) => w.once('exit', r));
  w.kill('SIGKILL');
  await exited;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The campaign's result, riding out server outages (a long poll that fails is asked again). */
async function outcome(id: string): Promise<{ result?: CampaignResult; failure?: string }> {
  for (;;) {
    try {
      return { result: (await client.workflow.getHandle(id).result()) as CampaignResult };
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const messages: string[] = [];
        for (let e: Error | undefined = err; e; e = e.cause as Error | undefined) messages.push(e.message);
        return { failure: messages.join(' <- ') };
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const jobFolder = (id: string, stage: string) => join(work, 'jobs', id, 'round-0001', stage);
const progressed = async (id: string, stage: string, lines = 1) =>
  (await readFile(join(jobFolder(id, stage), 'channel.jsonl'), 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('"progress"')).length >= lines ? true : undefined;

/** runs.log lines per job folder of a campaign: `round-0001/label` -> 2. */
async function jobRuns(id: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  const base = join(work, 'jobs', id);
  for (const entry of await readdir(base, { recursive: true })) {
    if (!String(entry).endsWith('runs.log') || String(entry).includes('.superseded-')) continue;
    const n = (await readFile(join(base, String(entry)), 'utf8')).trim().split('\n').filter(Boolean).length;
    runs.set(dirname(String(entry)), n);
  }
  return runs;
}

/** sha256 of every output every stage committed, by `<round>/<stage>/<output>`. */
async function committedOutputs(id: string): Promise<Record<string, string>> {
  const base = join(work, 'artifacts', 'campaigns', id);
  const out: Record<string, string> = {};
  for (const entry of await readdir(base, { recursive: true })) {
    if (!String(entry).endsWith('/result.json')) continue;
    const result = JSON.parse(await readFile(join(base, String(entry)), 'utf8')) as { outputs: Record<string, { sha256: string }> };
    for (const [name, ref] of Object.entries(result.outputs)) out[`${dirname(String(entry))}/${name}`] = ref.sha256;
  }
  return out;
}

let reference: { outputs: Record<string, string>; totals: number[] };

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-faults-'));
  serverOpts = { dataDir: join(work, 'data'), port: await freePort(), uiPort: await freePort(), timeoutMs: 60_000 };
  server = await ensureDevServer(serverOpts);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  startWorker();
  // The uninterrupted run every faulty run is compared with.
  await startOrAttach(client, exampleConfig('reference'));
  const { result, failure } = await outcome('reference');
  assert.ok(result, failure);
  reference = { outputs: await committedOutputs('reference'), totals: result.acceptedTotals };
  assert.ok(Object.keys(reference.outputs).length > 10);
  for (const [job, n] of await jobRuns('reference')) assert.equal(n, 1, `${job} ran once`);
});

after(async () => {
  await killWorker();
  await connection?.close().catch(() => undefined);
  if (server?.pid) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(work, { recursive: true, force: true });
});

async function assertLikeReference(id: string, result: CampaignResult | undefined, failure: string | undefined): Promise<void> {
  assert.ok(result, `campaign ${id} completed: ${failure}`);
  assert.deepEqual(result.acceptedTotals, reference.totals);
  assert.deepEqual(await committedOutputs(id), reference.outputs, 'every stage output byte-identical to the uninterrupted run');
}

describe('fault injection on the command example', { timeout: 900_000 }, () => {
  test('worker SIGKILL in sample, criticTrain and generatorTrain, a short server SIGKILL in label, an outage longer than heartbeatTimeout in evaluate: completes, identical, each job ran once', async () => {
    const id = 'crashes';
    // evaluate runs long enough (about 12 s) to outlive an outage of 7 s, longer than its 4 s heartbeat timeout.
    const slow = { steps: 6, stepDelayMs: 200 };
    await startOrAttach(client, exampleConfig(id, { sample: slow, label: slow, criticTrain: slow, generatorTrain: slow, evaluate: { steps: 40, stepDelayMs: 300 } }));
    const killedIn: string[] = [];
    for (const stage of ['sample', 'criticTrain', 'generatorTrain']) {
      await waitFor(`${stage} to make progress`, () => progressed(id, stage));
      await killWorker();
      killedIn.push(stage);
      await new Promise((r) => setTimeout(r, 300));
      startWorker();
      if (stage === 'sample') {
        // A short outage: the server is SIGKILLed while label runs and comes back on its database.
        await waitFor('label to make progress', () => progressed(id, 'label'));
        process.kill(server.pid!, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 1_500));
        server = await ensureDevServer(serverOpts);
      }
    }
    await waitFor('evaluate to make progress', () => progressed(id, 'evaluate', 2));
    const evaluateJob = JSON.parse(await readFile(join(jobFolder(id, 'evaluate'), 'job.json'), 'utf8')) as { pid: number };
    process.kill(server.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 7_000));
    server = await ensureDevServer(serverOpts);
    const { result, failure } = await outcome(id);
    await assertLikeReference(id, result, failure);
    const runs = await jobRuns(id);
    for (const [job, n] of runs) assert.equal(n, 1, `${job} ran ${n} times; the worker kills and outages never restart a job`);
    assert.ok(!existsSync(join(jobFolder(id, 'evaluate'), 'attempt-1')), 'the evaluate job was never restarted');
    assert.ok(evaluateJob.pid > 0);
    assert.deepEqual(killedIn, ['sample', 'criticTrain', 'generatorTrain']);
  });

  test('each malformed result fails the campaign at once, publishes nothing, and is fixed and re-run; corrupted outputs (truncated, same-size overwrite) are re-produced', async () => {
    const id = 'malformed';
    const modeFile = join(work, 'label-mode');
    const script = join(work, 'faulty-label.mjs');
    // The label job: the example job when the mode file says 'good', else a malformed result.
    await writeFile(
      script,
      `import { appendFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
const mode = readFileSync(process.argv[2], 'utf8').trim();
if (mode === 'good') process.exit(spawnSync(process.execPath, [${JSON.stringify(join(ROOT, 'examples/jobs/stage-job.mjs'))}], { stdio: 'inherit' }).status ?? 1);
const r = JSON.parse(readFileSync(process.env.DUAL_IPO_REQUEST, 'utf8'));
appendFileSync(process.env.DUAL_IPO_JOB_DIR + '/runs.log', process.pid + '\\n');
writeFileSync(r.outputDir + '/labels.json', '[]');
const write = (v) => writeFileSync(r.resultFile, typeof v === 'string' ? v : JSON.stringify(v));
const ok = { outputs: { labels: { path: 'labels.json' } }, metrics: { pairs: 1 } };
switch (mode) {
  case 'no-path': write({ outputs: { labels: {} } }); break;
  case 'string-metric': write({ ...ok, metrics: { pairs: 'one' } }); break;
  case 'outputs-array': write({ outputs: [{ path: 'labels.json' }] }); break;
  case 'not-json': write('{"outputs": '); break;
  case 'missing-file': write({ outputs: { labels: { path: 'gone.json' } } }); break;
  case 'no-result': break;
  case 'dotdot': write({ outputs: { labels: { path: '../../../../../../../../../../../etc/passwd' } } }); break;
  case 'absolute': write({ outputs: { labels: { path: '/etc/passwd' } } }); break;
  case 'symlink': symlinkSync('/etc/passwd', r.outputDir + '/link-' + process.pid + '.json'); write({ outputs: { labels: { path: 'link-' + process.pid + '.json' } } }); break;
  case 'missing-required': writeFileSync(r.outputDir + '/other.json', '{}'); write({ outputs: { other: { path: 'other.json' } } }); break;
}
`,
    );
    const config = exampleConfig(id, {}, { label: ['node', script, modeFile] });
    const modes: Array<[string, RegExp]> = [
      ['no-path', /has no "path"/],
      ['string-metric', /metric "pairs" is not a number/],
      ['outputs-array', /"outputs" is not an object/],
      ['not-json', /not valid JSON/],
      ['missing-file', /gone\.json does not exist/],
      ['no-result', /is missing/],
      ['dotdot', /escapes the output folder/],
      ['absolute', /escapes the output folder/],
      ['symlink', /symbolic link/],
      ['missing-required', /lacks the output "labels"/],
    ];
    const artifacts = join(work, 'artifacts', 'campaigns', id);
    for (const [i, [mode, message]] of modes.entries()) {
      await writeFile(modeFile, mode);
      await startOrAttach(client, config);
      const { result, failure } = await outcome(id);
      assert.equal(result, undefined, `mode ${mode} failed the campaign`);
      assert.match(failure ?? '', message, `mode ${mode}`);
      const published = (await readdir(join(artifacts, 'round-0001'), { recursive: true }).catch(() => [] as string[])).filter((f) => String(f).startsWith('label/'));
      assert.deepEqual(published, [], `mode ${mode}: nothing of label in the store`);
      if (i === 0) {
        // Damage what the next run consumes: the sample stage's output cut short, and the
        // bootstrap generator overwritten with other bytes of the same size.
        const samples = join(artifacts, 'round-0001', 'sample', 'samples');
        await truncate(samples, 10);
        const generator = join(artifacts, 'round-0000', 'bootstrap', 'generator');
        const size = (await readFile(generator)).length;
        await writeFile(generator, 'x'.repeat(size));
      }
    }
    await writeFile(modeFile, 'good');
    await startOrAttach(client, config);
    const { result, failure } = await outcome(id);
    await assertLikeReference(id, result, failure);
    const runs = await jobRuns(id);
    assert.equal(runs.get('round-0001/label'), modes.length + 1, 'the label job ran once per malformed result and once fixed; no refused result was reused');
    for (const [job, n] of runs) if (job !== 'round-0001/label') assert.equal(n, 1, `${job} ran ${n} times (a damaged output is re-published from its finished job, which does not run again)`);
    assert.ok(!existsSync(join(artifacts, 'round-0001', 'label', 'other')));
  });
});
