// config/examples/cogvideox-tiny.yaml end to end: `dual-ipo run` on an embedded dev server, every stage a
// Python reference job (python/dual_ipo_jobs/jobs) on tiny random CogVideoX / Qwen2-VL models that the
// bootstrap builds and saves, and the later jobs load back as real weights. Needs the Python job
// environment (.tools/py-jobs); skipped with a message without it, like the Python tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../lib/free-port';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.tools', 'py-jobs', 'bin', 'python');
const STAGES = ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'] as const;
// A job's result may hold NaN metrics (the contract allows them: the backend counts them as non-finite).
const readResult = async (file: string) => JSON.parse((await readFile(file, 'utf8')).replace(/\bNaN\b/g, 'null'));
const JOB_MODULE: Record<string, string> = { pceFilter: 'pce_filter', criticTrain: 'critic_train', generatorTrain: 'generator_train' };

test('cogvideox-tiny: one round whose every stage runs its Python job on tiny models', { timeout: 1_500_000, skip: existsSync(PYTHON) ? false : `no Python job environment at ${PYTHON} (DUAL_IPO_SETUP_PYTHON=1 npm run setup)` }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'dual-ipo-cogvideox-tiny-'));
  // The example as shipped, with its local folders moved into the temp folder and a fresh campaign id.
  const config = parse(await readFile(join(ROOT, 'config/examples/cogvideox-tiny.yaml'), 'utf8'));
  const text = stringify(config).replaceAll('.data/cogvideox-tiny/', `${work}/tiny/`);
  const cfg = parse(text);
  cfg.campaign.id = `cogvideox-tiny-e2e-${process.pid}`;
  cfg.artifacts.root = join(work, 'artifacts');
  for (const s of STAGES) assert.equal(cfg.stages[s].command[2], JOB_MODULE[s] ?? s, `${s} runs its own job`);
  const file = join(work, 'cogvideox-tiny.yaml');
  await writeFile(file, stringify(cfg));

  const env: NodeJS.ProcessEnv = { ...process.env, DUAL_IPO_DATA_DIR: join(work, 'data'), DUAL_IPO_TEMPORAL_PORT: String(await freePort()), DUAL_IPO_TEMPORAL_UI_PORT: String(await freePort()) };
  delete env.TEMPORAL_ADDRESS;
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'run', '--config', file], { cwd: ROOT, env, encoding: 'utf8', timeout: 1_400_000 });
    assert.equal(run.status, 0, `dual-ipo run failed:\n${run.stdout}\n${run.stderr.slice(-6000)}`);
    const id = cfg.campaign.id as string;
    assert.match(run.stdout, new RegExp(`campaign ${id} finished after 1 round`));

    // Every stage ran its Python job: a job folder with the request, a result and exit code 0.
    const jobs = join(work, 'data', 'jobs', id);
    const ran = [['round-0000', 'bootstrap'], ['round-0000', 'evaluate'], ...STAGES.filter((s) => s !== 'bootstrap').map((s) => ['round-0001', s])];
    for (const [round, stage] of ran) {
      const dir = join(jobs, round!, stage!);
      assert.equal((await readFile(join(dir, 'exit_code'), 'utf8')).trim(), '0', `${round}/${stage} exit code`);
      const request = JSON.parse(await readFile(join(dir, 'request.json'), 'utf8'));
      assert.equal(request.stage, stage);
      const result = await readResult(join(dir, 'result.json'));
      assert.ok(Object.keys(result.outputs).length > 0 || stage === 'validate', `${round}/${stage} outputs`);
    }
    const boot = await readResult(join(jobs, 'round-0000', 'bootstrap', 'result.json'));
    assert.deepEqual(Object.keys(boot.outputs).sort(), ['critic', 'evalPrompts', 'generator', 'humanSeed', 'humanTest', 'realVideos']);
    assert.ok(existsSync(join(work, 'tiny', 'models', 'cogvideox', 'model_index.json')), 'the bootstrap saved the tiny CogVideoX');
    assert.ok(existsSync(join(work, 'tiny', 'models', 'qwen2vl', 'config.json')), 'the bootstrap saved the tiny Qwen2-VL');

    // The gates were evaluated and the round ended with a recorded decision.
    const manifest = JSON.parse(await readFile(join(work, 'artifacts', 'campaigns', id, 'round-0001', 'manifest.json'), 'utf8'));
    assert.ok(['accepted', 'rejected'].includes(manifest.status), manifest.status);
    const gates = manifest.gates.map((g: { gate: string }) => g.gate);
    assert.deepEqual(gates, ['critic', 'eval'], JSON.stringify(manifest.gates));
    const critic = manifest.gates[0];
    assert.ok(critic.figures.agreementPairwise >= 0 && critic.figures.agreementPairwise <= 1);
    for (const stage of STAGES.slice(1)) assert.ok(manifest.stages.some((s: { stage: string }) => s.stage === stage), `stage ${stage} in the manifest`);
    const evalGate = manifest.gates[1];
    if (!/abnormal generator-train loss/.test(evalGate.reason)) {
      // The candidate's evaluation is the labelled stand-in's, paired with the base generator's videos.
      const scores = JSON.parse(await readFile(join(jobs, 'round-0001', 'evaluate', 'out', 'scores.json'), 'utf8'));
      assert.equal(scores.scorer, 'standin');
      assert.equal(typeof evalGate.figures.gainStandardError, 'number');
    }
  } finally {
    spawnSync(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'server', '--stop'], { cwd: ROOT, env, encoding: 'utf8' });
  }
});
