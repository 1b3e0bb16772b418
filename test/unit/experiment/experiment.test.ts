// Experiments: planning variants x seeds from a base config, and the mean ± std summary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepMerge, loadExperiment } from '../../../lib/experiment/config';
import { meanStd, summariseVariants, formatMeanStd } from '../../../lib/experiment/summary';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('experiments', () => {
  test('meanStd: sample standard deviation, NaN (not 0) for one run', () => {
    // 70, 72, 74: mean 72; deviations -2, 0, 2; (4 + 0 + 4) / (3 - 1) = 4; std 2.
    assert.deepEqual(meanStd([70, 72, 74]), { mean: 72, std: 2 });
    assert.ok(Number.isNaN(meanStd([70]).std));
    assert.equal(formatMeanStd({ mean: 72, std: 2 }), '72.00 ± 2.00');
    assert.equal(formatMeanStd(meanStd([70])), '70.00');
  });

  test('summaries per variant: final Total and gain over the base model', () => {
    const run = (variant: string, seed: number, base: number, final: number) => ({ variant, seed, campaignId: `${variant}-${seed}`, baseTotal: base, finalTotal: final, acceptedTotals: [base, final], rounds: 1, stopReason: 'x' });
    const [a, b] = summariseVariants([run('dual', 1, 70, 74), run('dual', 2, 71, 73), run('static', 1, 70, 70.5)]);
    assert.equal(a!.variant, 'dual');
    assert.deepEqual(a!.finalTotal.mean, 73.5);
    assert.deepEqual(a!.gain, { mean: 3, std: Math.SQRT2 });
    assert.equal(b!.runs, 1);
  });

  test('deepMerge: objects merge, leaves and arrays are replaced', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 });
  });

  test('plans one campaign per variant and seed from the base config', () => {
    const { experiment, runs } = loadExperiment(join(ROOT, 'config/examples/command-experiment.yaml'));
    assert.equal(experiment.name, 'command-demo');
    assert.deepEqual(runs.map((r) => r.config.campaign.id), ['command-demo-dual-ipo-s1', 'command-demo-dual-ipo-s2', 'command-demo-static-data-s1', 'command-demo-static-data-s2']);
    const staticRun = runs.find((r) => r.variant === 'static-data')!;
    assert.equal(staticRun.config.generation.staticPreferences, true);
    assert.equal(staticRun.config.campaign.criticRefinement, 'never');
    assert.equal(staticRun.config.campaign.seed, 1);
    assert.equal(staticRun.config.stages.sample.backend, 'command', 'the base config is kept');
  });

  test('a variant that makes an invalid config is refused by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-exp-'));
    await writeFile(join(dir, 'base.yaml'), 'campaign: { maxRounds: 1 }\n');
    await writeFile(join(dir, 'exp.yaml'), 'experiment:\n  name: x\n  base: base.yaml\n  variants:\n    broken: { generation: { staticPreferences: true } }\n');
    assert.throws(() => loadExperiment(join(dir, 'exp.yaml')), /variant broken\): generation\.staticPreferences: .*criticRefinement to "never"/);
    await writeFile(join(dir, 'exp2.yaml'), 'experiment:\n  name: x\n  base: base.yaml\n  variants: {}\n');
    assert.throws(() => loadExperiment(join(dir, 'exp2.yaml')), /experiment\.variants: at least one variant/);
  });
});
