// The reduced quickstart (1 round, tiny sizes) end to end through the real CLI: embedded dev server,
// in-process workers, the builtin world and models, both gates, the manifest and the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/free-port';

const ROOT = join(import.meta.dirname, '..', '..');


test('dual-ipo quickstart --tiny: a real round with gates, a manifest and a report', { timeout: 600_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'dual-ipo-quickstart-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DUAL_IPO_DATA_DIR: join(work, 'data'), DUAL_IPO_TEMPORAL_PORT: String(await freePort()), DUAL_IPO_TEMPORAL_UI_PORT: String(await freePort()) };
  delete env.TEMPORAL_ADDRESS;
  const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 540_000 });
  try {
    const run = cli(['quickstart', '--tiny', '--artifacts', join(work, 'artifacts'), '--out', join(work, 'report')]);
    assert.equal(run.status, 0, `quickstart failed:\n${run.stdout}\n${run.stderr}`);
    const shown = run.stdout + run.stderr; // progress and links go to stderr, results to stdout
    assert.match(shown, /Temporal Web UI: http:\/\/127\.0\.0\.1:\d+/);
    const id = /campaign (quickstart-tiny-[0-9a-f]{8})/.exec(run.stdout)?.[1];
    assert.ok(id, run.stdout);

    const roundDir = join(work, 'artifacts', 'campaigns', id, 'round-0001');
    const manifest = JSON.parse(await readFile(join(roundDir, 'manifest.json'), 'utf8'));
    assert.ok(['accepted', 'rejected'].includes(manifest.status), manifest.status);
    assert.deepEqual(manifest.gates.map((g: { gate: string }) => g.gate), ['critic', 'eval']);
    const critic = manifest.gates[0];
    assert.ok(critic.figures.agreementPairwise >= 0 && critic.figures.agreementPairwise <= 1);
    assert.equal(typeof critic.figures.agreementPointwise, 'number');
    const evalGate = manifest.gates[1];
    assert.equal(evalGate.accepted, manifest.status === 'accepted');
    // The gate paired the candidate's videos with the base model's: the gain has a standard error.
    assert.ok(evalGate.figures.gainStandardError > 0, JSON.stringify(evalGate.figures));
    assert.match(evalGate.reason, /[+-]\d+\.\d\d ± \d+\.\d\d standard error/);
    if (manifest.status === 'rejected') assert.deepEqual(manifest.rollbacks.map((r: { what: string }) => r.what).includes('generator'), true);
    for (const stage of ['sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate']) {
      assert.ok(manifest.stages.some((s: { stage: string }) => s.stage === stage), `stage ${stage} ran`);
    }
    assert.ok(Number.isFinite(manifest.evaluation.total));
    assert.ok((await readdir(roundDir)).includes('generatorTrain'));
    // The gate's test set came from the base model's candidates, labelled by the simulated panel through the labels path.
    assert.equal(manifest.humanTest.refreshed, true, JSON.stringify(manifest.humanTest));
    assert.equal(manifest.humanTest.by, 'simulated panel');
    assert.equal(manifest.inputs.humanTest.uri === manifest.outputs.humanTest.uri, false, 'validated on the refreshed set, not the bootstrap\'s');
    const validate = manifest.stages.find((s: { stage: string }) => s.stage === 'validate');
    assert.equal(validate.metrics.pairsCounted_fixed + validate.metrics.pairsCounted_refreshed, validate.metrics.pairsCounted);

    const html = await readFile(join(work, 'report', 'index.html'), 'utf8');
    assert.match(html, new RegExp(`<code id="campaign-id">${id}</code>`));
    assert.match(html, /<b id="base-total">\d+\.\d\d<\/b>/);
    assert.match(html, /round 1, critic gate: (accepted|rejected)/);
    assert.match(html, /round 1, eval gate: (accepted|rejected)/);
    assert.match(html, /id="dimensions"/, 'the 16 VBench dimensions per round');
    assert.ok(/src="data:image\/gif;base64,/.test(html), 'sample videos are inline');
    // The held-out audit: the base generator (and the round's, if accepted) on prompts no gate saw.
    assert.match(run.stdout, /held-out audit \(8 videos of 4 prompts no gate saw\): Total g0 \d+\.\d\d/);
    assert.match(html, /<table id="audit">/);
    assert.match(html, /id="held-out-gain"/);
    const audit = JSON.parse(await readFile(join(work, 'artifacts', 'campaigns', id, 'audit.json'), 'utf8'));
    assert.equal(audit.generators.length, manifest.status === 'accepted' ? 2 : 1);
    if (manifest.status === 'accepted') {
      // The accepted generator's gain comes with its paired standard error, in the record and on the terminal.
      assert.ok(audit.generators[1].gainStandardError >= 0, `gainStandardError ${audit.generators[1].gainStandardError}`);
      assert.match(run.stdout, /held-out audit .*; gain -?\d+\.\d\d ± \d+\.\d\d \(standard error\)/);
    }

    // Running it again resumes (here: finds the finished campaign) instead of starting over.
    const again = cli(['quickstart', '--tiny', '--artifacts', join(work, 'artifacts'), '--out', join(work, 'report2')]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout + again.stderr, new RegExp(`resumed campaign ${id}`));
  } finally {
    spawnSync(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'server', '--stop'], { cwd: ROOT, env, encoding: 'utf8' });
  }
});
