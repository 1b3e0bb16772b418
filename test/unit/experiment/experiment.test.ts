// Experiments: planning variants x seeds from a base config, and the mean ± std summary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepMerge, loadExperiment } from '../../../lib/experiment/config';
import { loadConfig } from '../../../config/load';
import { meanStd, summariseVariants, formatMeanStd, pairedDifference, formatDifference, meanSe } from '../../../lib/experiment/summary';
import { AUDIT_PROMPTS, auditCampaign, auditKey, auditPrompts, auditSummary } from '../../../lib/experiment/audit';
import { experimentTableHtml } from '../../../lib/experiment/report';
import { openStore } from '../../../lib/artifacts';
import { manifestKey } from '../../../lib/artifacts/manifest';
import { runStageLocally } from '../../../lib/stages/local';
import { initTf } from '../../../lib/models/backend';

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

  test('paired differences: a minus b per seed on the held-out gain and the user study, mean ± standard error', () => {
    const study = (net: number) => ({ pairs: 10, wins: 0, losses: 0, ties: 10, net, dimensions: {} });
    const run = (variant: string, seed: number, gain: number, net?: number) => ({
      variant, seed, campaignId: `${variant}-${seed}`, baseTotal: 50, finalTotal: 50 + gain, acceptedTotals: [50], rounds: 1, stopReason: 'x',
      audit: { base: 55, final: 55 + gain, prompts: 8, videos: 16, ...(net !== undefined ? { study: study(net) } : {}) },
    });
    // seed 3 of b kept nothing (no study: net 0); seed 4 has no b run and is left out.
    const results = [run('a', 1, 0.5, 0.1), run('a', 2, 0.3, 0.2), run('a', 3, 0.4, 0.0), run('a', 4, 9, 0.9), run('b', 1, 0.2, 0.0), run('b', 2, 0.2, 0.1), run('b', 3, 0)];
    const d = pairedDifference(results, 'a', 'b');
    assert.deepEqual(d.seeds, [1, 2, 3]);
    // 0.3, 0.1, 0.4: mean 0.2667, std sqrt(((0.0333)^2 + (0.1667)^2 + (0.1333)^2) / 2) = 0.1528, se 0.0882
    assert.ok(Math.abs(d.totalMean.mean - 0.8 / 3) < 1e-9);
    assert.ok(Math.abs(d.totalMean.se - 0.15275 / Math.sqrt(3)) < 1e-4);
    assert.deepEqual(d.study.map((x) => Number(x.toFixed(9))), [0.1, 0.1, 0]);
    assert.equal(formatDifference({ mean: 0.2, se: 0.05 }), '+0.20 ± 0.05 (4.0 SE)');
    assert.equal(formatDifference(meanSe([-0.2])), '-0.20', 'one seed has no standard error');
    assert.equal(pairedDifference(results, 'a', 'c').seeds.length, 0);
    const [a] = summariseVariants(results);
    assert.ok(Math.abs(a!.studyNet!.mean - 0.3) < 1e-9, 'the study net is summarised beside the gain');
    const html = experimentTableHtml(results, [['a', 'b']]);
    assert.match(html, /id="comparisons"[\s\S]*a - b[\s\S]*\+0\.27 ± 0\.09 \(3\.0 SE\)/);
    assert.match(html, /<td>0 \/ 0 \/ 10, \+0\.100<\/td>/, "a campaign's user study");
    assert.match(html, /<td>base kept<\/td>/, 'a campaign that kept no generator');
  });

  test('the mechanism experiment: its arms, one shared base model, its comparisons; --variants and --seeds select', () => {
    const path = join(ROOT, 'config/examples/mechanism.yaml');
    const { experiment, runs } = loadExperiment(path);
    assert.equal(runs.length, 8 * 5);
    assert.ok(experiment.compare.some(([a, b]) => a === 'critic' && b === 'random'));
    assert.ok(runs.every((r) => r.config.stages.bootstrap.params['baseSeed'] === 1), 'every seed starts from one base model');
    const arm = (v: string) => runs.find((r) => r.variant === v && r.seed === 2)!.config;
    assert.deepEqual([arm('critic').generation.rankBy, arm('random').generation.rankBy, arm('panel').generation.rankBy, arm('benchmark').generation.rankBy], ['critic', 'random', 'panel', 'evaluator']);
    assert.equal(arm('none').generator.method, 'real-sft');
    const worlds = runs.map((r) => JSON.stringify(r.config.stages.bootstrap.params));
    assert.equal(new Set(worlds).size, 1, 'every arm shares one bootstrap (one cache id)');
    assert.deepEqual(
      ['criticVision', 'realVideos', 'pretrainSteps', 'generatorShare'].map((k) => arm('srpo-3').stages.bootstrap.params[k]),
      ['semantic', 12000, 12000, 0.5],
    );
    assert.equal(arm('critic').campaign.maxRounds, 1);
    assert.equal(arm('srpo-3').campaign.maxRounds, 3);
    assert.equal(arm('fixed-3').campaign.criticRefinement, 'never');
    const some = loadExperiment(path, { variants: ['critic', 'none'], seeds: [7] }).runs;
    assert.deepEqual(some.map((r) => r.config.campaign.id), ['mechanism-12k-critic-s7', 'mechanism-12k-none-s7']);
    assert.throws(() => loadExperiment(path, { variants: ['oracle'] }), /no variant named "oracle"/);
  });

  test("the open-gate diagnostic is the mechanism's srpo-3 on its base model and audit, only its critic updates always kept", () => {
    const m = loadExperiment(join(ROOT, 'config/examples/mechanism.yaml'), { variants: ['srpo-3'], seeds: [2] });
    const o = loadExperiment(join(ROOT, 'config/examples/mechanism-open-gate.yaml'), { seeds: [2] });
    assert.equal(o.experiment.auditPrompts, m.experiment.auditPrompts, 'audited as srpo-3 is, so the two compare');
    const mechanism = m.runs[0]!.config;
    const open = o.runs[0]!.config;
    assert.equal(open.campaign.id, 'mechanism-12k-open-gate-srpo-3-open-s2');
    assert.deepEqual(open.stages.bootstrap.params, mechanism.stages.bootstrap.params, 'one bootstrap cache id: the same base model and critic c0');
    assert.deepEqual([open.gates.critic.threshold, open.campaign.criticOnEvalFailure, open.campaign.maxConsecutiveRejected], [0, 'keep', 3]);
    const rest = (c: typeof open) => ({ ...c, campaign: { ...c.campaign, id: '', name: '', criticOnEvalFailure: '', maxConsecutiveRejected: 0 }, gates: { ...c.gates, critic: { ...c.gates.critic, threshold: 0 } } });
    assert.deepEqual(rest(open), rest(mechanism), 'nothing else differs from srpo-3');
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
    await writeFile(join(dir, 'exp3.yaml'), 'experiment:\n  name: x\n  base: base.yaml\n  compare: [[a, b]]\n  variants:\n    a: {}\n');
    assert.throws(() => loadExperiment(join(dir, 'exp3.yaml')), /experiment\.compare: no variant named "b"/);
  });

  test('held-out audit figures are summarised beside the gate-set ones', () => {
    const run = (seed: number, base: number, final: number, audit?: [number, number]) => ({ variant: 'dual', seed, campaignId: `dual-${seed}`, baseTotal: base, finalTotal: final, acceptedTotals: [base, final], rounds: 1, stopReason: 'x', ...(audit ? { audit: { base: audit[0], final: audit[1], prompts: 4, videos: 8 } } : {}) });
    const [withAudit] = summariseVariants([run(1, 70, 74, [60, 61]), run(2, 71, 73, [60, 63])]);
    assert.deepEqual(withAudit!.auditGain, { mean: 2, std: Math.SQRT2 });
    assert.deepEqual(withAudit!.auditFinal, { mean: 62, std: Math.SQRT2 });
    const html = experimentTableHtml([run(1, 70, 74, [60, 61]), run(2, 71, 73, [60, 63])]);
    assert.match(html, /gain, held-out/);
    assert.match(html, /2\.00 ± 1\.41/);
    const withError = experimentTableHtml([{ ...run(1, 70, 74, [60, 61]), audit: { base: 60, final: 61, prompts: 4, videos: 8, gainStandardError: 0.25 } }]);
    assert.match(withError, /<td>60\.00<\/td><td>61\.00<\/td><td>\+1\.00 ± 0\.25<\/td>/, "each campaign's held-out gain with its standard error");
    const [without] = summariseVariants([run(1, 70, 74)]);
    assert.equal(without!.auditGain, undefined);
    assert.doesNotMatch(experimentTableHtml([run(1, 70, 74)]), /held-out<\/th>/);
  });

  test('the ablation set: every paper ablation is one switch of the quickstart campaign', () => {
    const { experiment, runs } = loadExperiment(join(ROOT, 'config/examples/ablations.yaml'));
    assert.deepEqual(experiment.seeds, [1, 2, 3]);
    assert.equal(runs.length, 9 * 3);
    const of = (variant: string) => runs.find((r) => r.variant === variant && r.seed === 1)!.config;
    assert.equal(of('dual-ipo').campaign.criticRefinement, 'every-round');
    assert.equal(of('static-data').generation.staticPreferences, true);
    assert.equal(of('fixed-critic').campaign.criticRefinement, 'never');
    assert.equal(of('fixed-critic').generation.staticPreferences, false);
    assert.equal(of('no-srpo-loss').critic.loss, 'dpo');
    assert.equal(of('no-pce').critic.usePce, false);
    assert.equal(of('kto').generator.method, 'kto');
    assert.equal(of('no-real-reg').generator.lambdaReal, 0);
    assert.equal(of('real-sft-only').generator.method, 'real-sft');
    assert.equal(of('real-sft-only').generator.lambdaReal, of('dual-ipo').generator.lambdaReal, 'the same real-data term as Dual-IPO');
    assert.equal(of('no-real-reg').generator.lambdaPreferred, of('dual-ipo').generator.lambdaPreferred, 'only the one switch changes');
    assert.equal(of('dual-ipo').generation.rankBy, 'critic');
    assert.deepEqual(of('oracle-ranking'), { ...of('no-pce'), campaign: { ...of('no-pce').campaign, id: of('oracle-ranking').campaign.id, name: of('oracle-ranking').campaign.name }, generation: { ...of('no-pce').generation, rankBy: 'evaluator' } }, 'no-pce with the oracle ranking');
    for (const r of runs) assert.equal(r.config.stages.generatorTrain.backend, 'builtin');
    // `common` reaches every variant: the gate the README's table was measured with.
    for (const r of runs) assert.deepEqual([r.config.generation.evalPrompts, r.config.gates.eval.minStandardErrors], [128, 0], r.variant);
  });

  test('quickstart-seeds: the quickstart campaign unchanged, seeds 1-3', () => {
    const { runs } = loadExperiment(join(ROOT, 'config/examples/quickstart-seeds.yaml'));
    assert.deepEqual(runs.map((r) => r.seed), [1, 2, 3]);
    const quickstart = loadConfig(join(ROOT, 'config/examples/quickstart.yaml'));
    for (const r of runs) {
      const { campaign, ...rest } = r.config;
      const { campaign: qc, ...qrest } = quickstart;
      assert.deepEqual(rest, qrest);
      assert.deepEqual({ ...campaign, id: undefined, name: undefined, seed: undefined }, { ...qc, id: undefined, name: undefined, seed: undefined });
    }
  });

  test('ranking-diagnostics and critic-vision: the quickstart with only their switches changed', () => {
    const quickstart = loadConfig(join(ROOT, 'config/examples/quickstart.yaml'));
    const strip = (c: typeof quickstart) => ({ ...c, campaign: { ...c.campaign, id: undefined, name: undefined, seed: undefined } });
    const diagnostics = loadExperiment(join(ROOT, 'config/examples/ranking-diagnostics.yaml')).runs;
    const rankBy: Record<string, 'evaluator' | 'human-evidence' | 'random'> = { 'oracle-ranking': 'evaluator', 'evidence-ranking': 'human-evidence', 'random-ranking': 'random', 'random-every-round': 'random' };
    assert.deepEqual([...new Set(diagnostics.map((r) => r.variant))], Object.keys(rankBy));
    for (const r of diagnostics) {
      const want = rankBy[r.variant]!;
      // The second random variant also keeps every round: its eval gate tolerates any drop.
      const gates = r.variant === 'random-every-round' ? { ...quickstart.gates, eval: { ...quickstart.gates.eval, tolerance: 100 } } : quickstart.gates;
      assert.deepEqual(strip(r.config), strip({ ...quickstart, gates, critic: { ...quickstart.critic, usePce: false }, generation: { ...quickstart.generation, rankBy: want } }), r.variant);
    }
    const vision = loadExperiment(join(ROOT, 'config/examples/critic-vision.yaml')).runs;
    for (const r of vision) {
      const extra = r.variant === 'detector' ? { criticVision: 'detector' } : { criticVision: 'detector', humanEvidence: 'graded' };
      const bootstrap = { ...quickstart.stages.bootstrap, params: { ...quickstart.stages.bootstrap.params, ...extra } };
      assert.deepEqual(strip(r.config), strip({ ...quickstart, stages: { ...quickstart.stages, bootstrap } }), r.variant);
    }
  });

  test('the store is the base config\'s, unless the experiment names another (relative to the experiment file)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-exp-store-'));
    const base = loadConfig(join(ROOT, 'config/examples/quickstart.yaml'));
    const write = async (name: string, extra: string) => {
      await writeFile(join(dir, name), `experiment:\n  name: e\n  base: ${join(ROOT, 'config/examples/quickstart.yaml')}\n  seeds: [1]\n${extra}  variants:\n    a: {}\n`);
      return loadExperiment(join(dir, name)).runs[0]!.config.artifacts.root;
    };
    assert.equal(await write('plain.yaml', ''), base.artifacts.root);
    assert.equal(await write('relative.yaml', '  common: { artifacts: { root: store } }\n'), join(dir, 'store'));
    assert.equal(await write('absolute.yaml', '  common: { artifacts: { root: /srv/artifacts } }\n'), '/srv/artifacts');
    await writeFile(join(dir, 'variant.yaml'), `experiment:\n  name: e\n  base: ${join(ROOT, 'config/examples/quickstart.yaml')}\n  seeds: [1]\n  common: { artifacts: { root: shared } }\n  variants:\n    a: {}\n    b: { artifacts: { root: own } }\n`);
    assert.deepEqual(loadExperiment(join(dir, 'variant.yaml')).runs.map((r) => r.config.artifacts.root), [join(dir, 'shared'), join(dir, 'own')], "a variant's store wins over the common one");
    // 2,048 prompts: on 256 the gains' standard errors (~0.2) were as large as the loop's gains.
    assert.equal(AUDIT_PROMPTS, 2048);
    assert.equal(loadExperiment(join(dir, 'plain.yaml')).experiment.auditPrompts, AUDIT_PROMPTS);
    await writeFile(join(dir, 'small.yaml'), `experiment:\n  name: e\n  base: ${join(ROOT, 'config/examples/quickstart.yaml')}\n  auditPrompts: 64\n  variants:\n    a: {}\n`);
    assert.equal(loadExperiment(join(dir, 'small.yaml')).experiment.auditPrompts, 64);
  });

  test("common overrides apply to every variant, and a variant's own switch wins", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-exp-common-'));
    const file = join(dir, 'exp.yaml');
    await writeFile(file, `experiment:\n  name: e\n  base: ${join(ROOT, 'config/examples/quickstart.yaml')}\n  seeds: [1]\n  common: { generator: { steps: 7 }, gates: { eval: { minStandardErrors: 2 } } }\n  variants:\n    a: {}\n    b: { generator: { steps: 9 } }\n`);
    const { runs } = loadExperiment(file);
    assert.deepEqual(runs.map((r) => [r.variant, r.config.generator.steps, r.config.gates.eval.minStandardErrors, r.config.generator.method]), [['a', 7, 2, 'dpo'], ['b', 9, 2, 'dpo']]);
  });

  test('audit: the base and every accepted generator scored on shared fresh prompts', async () => {
    await initTf(() => {});
    const store = openStore(await mkdtemp(join(tmpdir(), 'dual-ipo-audit-')));
    const boot = async (seed: number) => (await runStageLocally(store, 'bootstrap', { campaignId: `boot-${seed}`, round: 0, params: { seed, size: 'tiny' } })).outputs;
    const [a, b] = [await boot(1), await boot(2)];
    const round = (id: string, r: number, before: string, after: string, accepted: boolean, input: typeof a.generator, candidate: typeof a.generator) =>
      store.putJson(manifestKey(id, r), { schema: 'dual-ipo/round-manifest@1', campaignId: id, round: r, inputs: { generator: input }, outputs: { generatorCandidate: candidate }, generator: { before, after, accepted } });
    assert.equal(await auditCampaign(store, 'never-ran'), undefined, 'no round 1: nothing to audit');
    // Round 1 rejected (candidate b rolled back), round 2 accepted (candidate b kept).
    await round('c', 1, 'g0', 'g0', false, a.generator!, b.generator!);
    await round('c', 2, 'g0', 'g2', true, a.generator!, b.generator!);
    const audit = (await auditCampaign(store, 'c', { prompts: 4 }))!;
    assert.deepEqual(audit.generators.map((g) => [g.round, g.version, g.sha256]), [[0, 'g0', a.generator!.sha256], [2, 'g2', b.generator!.sha256]]);
    assert.deepEqual([audit.prompts, audit.videos], [4, 8]);
    assert.ok(audit.generators.every((g) => Number.isFinite(g.total) && Number.isFinite(g.semantic)));
    assert.notEqual(audit.generators[0]!.total, audit.generators[1]!.total);
    // The gain's error bar: paired with the base (same prompts and seeds), jackknife over prompts.
    assert.equal(audit.generators[0]!.gainStandardError, undefined, 'the base has no gain');
    const se = audit.generators[1]!.gainStandardError!;
    assert.ok(Number.isFinite(se) && se > 0, `paired standard error ${se}`);
    assert.deepEqual(auditSummary(audit), { base: audit.generators[0]!.total, final: audit.generators[1]!.total, prompts: 4, videos: 8, gainStandardError: se, study: audit.generators[1]!.study });
    // The user study beside the Total: the panel's verdicts on g2's 8 videos against the base's (same prompts and seeds).
    assert.equal(audit.generators[0]!.study, undefined, 'the base is not compared with itself');
    const study = audit.generators[1]!.study!;
    assert.equal(study.pairs, 8);
    assert.equal(study.wins + study.losses + study.ties, 8);
    assert.equal(study.net, (study.wins - study.losses) / 8);
    assert.ok(Number.isFinite(study.standardError), 'jackknife over the 4 prompts');
    assert.deepEqual(Object.keys(study.dimensions), ['semantic', 'motion', 'faithfulness']);
    assert.deepEqual([audit.version, audit.studyEvidence], [2, 'graded']);
    assert.deepEqual(await store.getJson(( await store.head(auditKey('c')))!), audit, 'written beside the campaign for the report');
    // An audit of an earlier version (no study) is recomputed, not reused.
    const { version: _v, ...old } = audit;
    await store.putJson(auditKey('c'), { ...old, generators: old.generators.map(({ study: _s, ...g }) => g) });
    assert.deepEqual((await auditCampaign(store, 'c', { prompts: 4 }))!.generators[1]!.study, study);
    // Another campaign with the same base on the same prompts and noise scores the same.
    await round('d', 1, 'g0', 'g0', false, a.generator!, b.generator!);
    assert.equal((await auditCampaign(store, 'd', { prompts: 4 }))!.generators[0]!.total, audit.generators[0]!.total);
    // Sharded (as a campaign whose evaluate stage has shardSize), the same figures.
    await round('e', 1, 'g0', 'g0', false, a.generator!, b.generator!);
    await round('e', 2, 'g0', 'g2', true, a.generator!, b.generator!);
    const sharded = (await auditCampaign(store, 'e', { prompts: 4, shardSize: 3, maxParallel: 2 }))!;
    assert.deepEqual(sharded.generators, audit.generators);
    assert.ok(await store.head('campaigns/e/round-0002/evaluate-audit/shards/00001/result.json'), 'the audit ran in shards');
    const prompts = await auditPrompts(store, { prompts: 4 });
    assert.equal(prompts.sha256, (await auditPrompts(store, { prompts: 4 })).sha256, 'one prompt set, written once');
    // An audit on another number of prompts is recomputed, not reused.
    const larger = (await auditCampaign(store, 'c', { prompts: 6 }))!;
    assert.deepEqual([larger.prompts, larger.videos], [6, 12]);
    assert.deepEqual((await store.getJson<typeof larger>((await store.head(auditKey('c')))!)).prompts, 6);
  });
});
