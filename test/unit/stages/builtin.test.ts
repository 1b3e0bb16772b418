// The builtin backend end to end at toy size: bootstrap, a whole round through every stage, the
// bootstrap cache, crash-resume of training from its interim save, and wrong inputs refused by name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ArtifactRef, type ArtifactStore } from '../../../lib/artifacts';
import { builtinStages } from '../../../lib/stages/builtin';
import { getManifest, getMatrix, getVideos, type HumanSet, type LabelSet, type PreferenceSet, type SampleSet } from '../../../lib/models/datasets';
import { panelWinRates } from '../../../lib/stages/builtin/world-readings';
import { loadSamples } from '../../../lib/stages/builtin/samples';
import { assess, evaluateVideos, pairedTotalGain, perceive, type VideoParts } from '../../../lib/world';
import { featureSize, loadCritic, videoFeatures } from '../../../lib/models/critic';
import { loadGenerator, weightsDigest } from '../../../lib/models/generator-serving';
import { runStageLocally } from '../../../lib/stages/local';
import { criticFeaturesCacheKey } from '../../../lib/stages/builtin/critic-features';
import { parsePickAPicCsv } from '../../../lib/models/exports';
import { STAGE_NAMES } from '../../../lib/stages/contract';

let dir: string;
let store: ArtifactStore;
let boot: Awaited<ReturnType<typeof runStageLocally>>;
const BOOT = { seed: 11, size: 'tiny', promptsPerRound: 6, candidatesPerPrompt: 3, evalPrompts: 6 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dual-ipo-stages-'));
  store = openStore(dir);
  boot = await runStageLocally(store, 'bootstrap', { campaignId: 'c1', round: 0, params: BOOT });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const finite = (m: Record<string, number>) => Object.entries(m).every(([, v]) => Number.isFinite(v));

/** Samples from the base generator, labelled and paired (no PCE): the inputs of a generatorTrain run. */
async function trainingInputs(campaignId: string, round: number, promptsPerRound: number) {
  const o = boot.outputs;
  const sample = await runStageLocally(store, 'sample', { campaignId, round, inputs: { generator: o.generator! }, params: { seed: 11, promptsPerRound, candidatesPerPrompt: 2 } });
  // Pointwise ranking: two candidates judged pairwise along two paths tie often, and these tests train, they do not rank.
  const label = await runStageLocally(store, 'label', { campaignId, round, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { seed: 11, paths: 2, ranking: 'pointwise' } });
  const filter = await runStageLocally(store, 'pceFilter', { campaignId, round, inputs: { labels: label.outputs.labels!, critic: o.critic! }, params: { seed: 11, paths: 2, usePce: false } });
  return { generator: o.generator!, preferences: filter.outputs.preferences!, realVideos: o.realVideos! };
}

describe('builtin backend', () => {
  test('implements every stage', () => {
    assert.deepEqual(Object.keys(builtinStages).sort(), [...STAGE_NAMES].sort());
  });

  test('bootstrap writes the six datasets and models, and reports ground truth and critic agreement', async () => {
    assert.deepEqual(Object.keys(boot.outputs).sort(), ['critic', 'evalPrompts', 'generator', 'humanSeed', 'humanTest', 'realVideos']);
    assert.ok(finite(boot.metrics));
    assert.ok(boot.metrics.groundTruthTotal! > 80, `ground truth Total ${boot.metrics.groundTruthTotal}`);
    assert.ok(boot.metrics.criticAgreementPairwise! >= 0 && boot.metrics.criticAgreementPairwise! <= 1);
    // The human sets and the critic (no generator samples asked for) ran in a worker thread beside the generator.
    assert.equal(boot.metrics.criticInWorker, 1);
    for (const ref of Object.values(boot.outputs)) assert.equal((await store.head(store.keyOf(ref.uri)))?.sha256, ref.sha256);
  });

  test('the same settings in another campaign reuse the cached bootstrap', async () => {
    const again = await runStageLocally(store, 'bootstrap', { campaignId: 'c2', round: 0, params: BOOT });
    assert.equal(again.metrics.reusedCache, 1);
    assert.deepEqual(again.outputs, boot.outputs);
    assert.ok(again.seconds < boot.seconds);
    assert.equal(again.metrics.groundTruthTotal, boot.metrics.groundTruthTotal);
    // Another number of evaluation prompts: the same models, a new prompt set and its ground truth.
    const more = await runStageLocally(store, 'bootstrap', { campaignId: 'c3', round: 0, params: { ...BOOT, evalPrompts: BOOT.evalPrompts + 3 } });
    assert.equal(more.metrics.reusedCache, 1, 'the models are not retrained');
    assert.deepEqual({ ...more.outputs, evalPrompts: undefined }, { ...boot.outputs, evalPrompts: undefined });
    const [before, after] = [await store.getJson<{ prompts: unknown[] }>(boot.outputs.evalPrompts!), await store.getJson<{ prompts: unknown[] }>(more.outputs.evalPrompts!)];
    assert.equal(after.prompts.length, before.prompts.length + 3);
    assert.ok(Number.isFinite(more.metrics.groundTruthTotal) && more.metrics.groundTruthTotal !== boot.metrics.groundTruthTotal);
  });

  test('a round: sample, label, pceFilter, criticTrain, validate, generatorTrain (DPO and KTO), evaluate', async () => {
    const o = boot.outputs;
    const base = await runStageLocally(store, 'evaluate', { campaignId: 'c1', round: 0, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts! }, params: { seed: 11 } });
    assert.ok(base.metrics.total! < boot.metrics.groundTruthTotal! - 10, `base ${base.metrics.total} vs ground truth ${boot.metrics.groundTruthTotal}`);
    assert.ok('dim_subject_consistency' in base.metrics && 'quality' in base.metrics && 'semantic' in base.metrics);
    assert.ok(base.outputs.scores && base.outputs.gif0);

    const round = { seed: 11, round: 1 };
    const sample = await runStageLocally(store, 'sample', { campaignId: 'c1', round: 1, inputs: { generator: o.generator! }, params: { ...round, promptsPerRound: 6, candidatesPerPrompt: 3 } });
    const samples = await getManifest<SampleSet>(store, sample.outputs.samples!, 'dual-ipo/samples@1', 'samples');
    assert.equal(samples.candidates.length, 18);
    // Fresh prompts per round, deterministic from seed and round.
    const again = await runStageLocally(store, 'sample', { campaignId: 'c9', round: 1, inputs: { generator: o.generator! }, params: { ...round, promptsPerRound: 6, candidatesPerPrompt: 3 } });
    assert.equal((await store.head(store.keyOf(again.outputs.samples!.uri)))?.sha256 === undefined, false);
    assert.deepEqual((await getManifest<SampleSet>(store, again.outputs.samples!, 'dual-ipo/samples@1', 'samples')).prompts, samples.prompts);

    const judging = { ...round, paths: 4, beta: 0.1, pceThreshold: 0.5, usePce: false, minScoreGap: 0 };
    const label = await runStageLocally(store, 'label', { campaignId: 'c1', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: judging });
    assert.equal(label.metrics.videos, 18);
    const filter = await runStageLocally(store, 'pceFilter', { campaignId: 'c1', round: 1, inputs: { labels: label.outputs.labels!, critic: o.critic! }, params: judging });
    assert.ok(finite(filter.metrics));
    const prefs = await getManifest<PreferenceSet>(store, filter.outputs.preferences!, 'dual-ipo/preferences@1', 'preferences');
    assert.ok(prefs.pairs.length > 0 && prefs.pairs.every((p) => p.kept && p.chosenScore >= p.rejectedScore && p.pce > 0 && p.pce < 1));
    // The pairs come from the critic's pairwise judgements (3 candidates: 3 pairs per prompt): top and
    // bottom win rate; KTO's points from its pointwise scores, split at their mean.
    const labels = await store.getJson<LabelSet>(label.outputs.labels!);
    assert.equal(labels.ranking, 'pairwise');
    assert.equal(label.metrics.pairsJudged, 6 * 3);
    assert.equal(prefs.rankedBy, 'pairwise');
    const item = new Map(labels.items.map((it) => [it.id, it]));
    for (const pair of prefs.pairs) {
      const wins = labels.items.filter((it) => samples.prompts[it.prompt]!.id === pair.promptId).map((it) => it.wins!);
      assert.deepEqual([pair.chosenScore, pair.rejectedScore], [item.get(pair.chosen)!.wins, item.get(pair.rejected)!.wins]);
      assert.deepEqual([pair.chosenScore, pair.rejectedScore], [Math.max(...wins), Math.min(...wins)], 'top-1 / bottom-1 by win rate');
    }
    const pointScores = prefs.points.map((pt) => item.get(pt.id)!.score);
    const threshold = pointScores.length ? labels.items.filter((it) => prefs.pairs.some((p) => p.promptId === samples.prompts[it.prompt]!.id)).reduce((sum, it, _, all) => sum + it.score / all.length, 0) : 0;
    for (const pt of prefs.points) assert.equal(pt.desirable, item.get(pt.id)!.score > threshold, `KTO point ${pt.id}: by its pointwise score`);
    // Fix 1's Q: the mean reward of the pairs' chosen responses.
    assert.ok(Math.abs(prefs.q - prefs.pairs.reduce((sum, p) => sum + p.reward / prefs.pairs.length, 0)) < 1e-9);
    // ranking 'pointwise': the expected grade ranks, no pair is judged.
    const pointwise = await runStageLocally(store, 'label', { campaignId: 'c1-pointwise', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, ranking: 'pointwise' } });
    const pointLabels = await store.getJson<LabelSet>(pointwise.outputs.labels!);
    assert.equal(pointLabels.ranking, undefined);
    assert.ok(pointLabels.items.every((it) => it.wins === undefined) && pointwise.metrics.pairsJudged === undefined);
    assert.deepEqual(pointLabels.items.map((it) => it.score), labels.items.map((it) => it.score), 'the same pointwise judgements');
    const table = parsePickAPicCsv(new TextDecoder().decode(await store.get(filter.outputs.pickAPic!)));
    assert.equal(table.length, prefs.pairs.length);

    const critic = await runStageLocally(store, 'criticTrain', {
      campaignId: 'c1',
      round: 1,
      inputs: { critic: o.critic!, pseudo: filter.outputs.preferences!, humanSeed: o.humanSeed! },
      params: { ...judging, loss: 'srpo', epochs: 1, learningRate: 5e-4, humanSeedMix: 1, pseudoLabelsPerIteration: 100 },
    });
    assert.ok(critic.outputs.critic);
    const validate = await runStageLocally(store, 'validate', { campaignId: 'c1', round: 1, inputs: { critic: critic.outputs.critic!, humanTest: o.humanTest! }, params: { ...round, paths: 4 } });
    assert.ok(validate.metrics.agreementPairwise! >= 0 && validate.metrics.agreementPointwise! >= 0);

    for (const method of ['dpo', 'kto'] as const) {
      const trained = await runStageLocally(store, 'generatorTrain', {
        campaignId: 'c1',
        round: 1,
        step: method,
        inputs: { generator: o.generator!, preferences: filter.outputs.preferences!, realVideos: o.realVideos! },
        params: { ...round, method, betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0.1, lambdaReal: 0.5, learningRate: 1e-4, steps: 6 },
      });
      assert.equal(trained.metrics.steps, 6, method);
      assert.equal(trained.metrics.nanCount, 0);
      for (const k of ['lossFirst', 'lossFinal', 'lossMax', 'implicitAccuracy']) assert.ok(Number.isFinite(trained.metrics[k]), `${method} ${k}`);
      const losses = await store.getJson<{ steps: unknown[] }>(trained.outputs.losses!);
      assert.equal(losses.steps.length, 6);
      // Paired with the base model's scores: the eval gate's standard error.
      const evaluated = await runStageLocally(store, 'evaluate', { campaignId: 'c1', round: 1, step: method, inputs: { generator: trained.outputs.generator!, evalPrompts: o.evalPrompts!, baseline: base.outputs.scores! }, params: round });
      assert.ok(Number.isFinite(evaluated.metrics.total));
      type Scores = { total: number; videoParts: VideoParts };
      const [before, after] = [await store.getJson<Scores>(base.outputs.scores!), await store.getJson<Scores>(evaluated.outputs.scores!)];
      const evalSet = await store.getJson<{ samplesPerPrompt: number }>(o.evalPrompts!);
      const expected = pairedTotalGain(before.videoParts, after.videoParts, (i) => Math.floor(i / evalSet.samplesPerPrompt));
      assert.ok(Math.abs(expected.gain - (after.total - before.total)) < 1e-9, 'the gain is the Total difference');
      assert.equal(evaluated.metrics.pairedGain, expected.gain);
      assert.equal(evaluated.metrics.gainStandardError, expected.standardError);
      assert.ok(expected.standardError > 0, 'a trained generator changes some videos');
    }
  });

  test("label with rankBy 'evaluator' ranks by the benchmark's per-video Total (the critic's judgments stay), 'human-evidence' by the share of the prompt shown, 'random' by a seeded draw", async () => {
    const o = boot.outputs;
    const sample = await runStageLocally(store, 'sample', { campaignId: 'oracle', round: 1, inputs: { generator: o.generator! }, params: { seed: 11, promptsPerRound: 3, candidatesPerPrompt: 3 } });
    const judging = { seed: 11, paths: 2 };
    const byCritic = await runStageLocally(store, 'label', { campaignId: 'oracle', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: judging });
    const byEvaluator = await runStageLocally(store, 'label', { campaignId: 'oracle-e', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, rankBy: 'evaluator' } });
    const [critic, oracle] = [await store.getJson<LabelSet>(byCritic.outputs.labels!), await store.getJson<LabelSet>(byEvaluator.outputs.labels!)];
    assert.equal(critic.rankBy, undefined);
    assert.equal(oracle.rankBy, 'evaluator');
    const { set, videos } = await loadSamples({ store } as Parameters<typeof loadSamples>[0], sample.outputs.samples!);
    oracle.items.forEach((item, i) => {
      assert.equal(item.score, evaluateVideos([{ spec: set.prompts[item.prompt]!.spec, video: videos[i]! }]).total / 100);
      assert.deepEqual(item.grades, critic.items[i]!.grades, 'the grades are still the critic\'s');
    });
    const filter = await runStageLocally(store, 'pceFilter', { campaignId: 'oracle', round: 1, inputs: { labels: byEvaluator.outputs.labels!, critic: o.critic! }, params: { ...judging, usePce: false } });
    const prefs = await getManifest<PreferenceSet>(store, filter.outputs.preferences!, 'dual-ipo/preferences@1', 'preferences');
    const score = new Map(oracle.items.map((it) => [it.id, it.score]));
    assert.equal(prefs.pairs.length, 3);
    assert.deepEqual([filter.metrics.benchmarkAgreement, filter.metrics.kept], [1, 3], 'ranked by the benchmark, every pair agrees with it');
    assert.ok(filter.metrics.benchmarkChosenTotal! > filter.metrics.benchmarkRejectedTotal!);
    for (const pair of prefs.pairs) {
      const scores = oracle.items.filter((it) => set.prompts[it.prompt]!.id === pair.promptId).map((it) => it.score);
      assert.deepEqual([score.get(pair.chosen), score.get(pair.rejected)], [Math.max(...scores), Math.min(...scores)], 'top-1 / bottom-1 by the Total');
    }
    await assert.rejects(runStageLocally(store, 'label', { campaignId: 'oracle', round: 1, step: 'bad', inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, rankBy: 'crowd' } }), /rankBy/);
    // rankBy 'panel': the simulated panel's pairwise win rates among the prompt's candidates (its own annotators).
    const byPanel = await runStageLocally(store, 'label', { campaignId: 'oracle-p', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, rankBy: 'panel' } });
    const panel = await store.getJson<LabelSet>(byPanel.outputs.labels!);
    assert.equal(panel.rankBy, 'panel');
    for (let k = 0; k < set.prompts.length; k++) {
      const rows = panel.items.flatMap((it, i) => (it.prompt === k ? [i] : []));
      assert.deepEqual(rows.map((i) => panel.items[i]!.score), panelWinRates(set.prompts[k]!.spec, rows.map((i) => videos[i]!)));
      // Every pair gives out one win (a tie half to each): a prompt's win rates sum to n / 2.
      assert.ok(Math.abs(rows.reduce((sum, i) => sum + panel.items[i]!.score, 0) - rows.length / 2) < 1e-9);
    }
    // rankBy 'human-evidence': the share of the prompt's weighted attributes the world's viewer sees.
    const byEvidence = await runStageLocally(store, 'label', { campaignId: 'oracle-h', round: 1, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, rankBy: 'human-evidence' } });
    const evidence = await store.getJson<LabelSet>(byEvidence.outputs.labels!);
    assert.equal(evidence.rankBy, 'human-evidence');
    evidence.items.forEach((item, i) => {
      const { checks } = assess(set.prompts[item.prompt]!.spec, perceive(videos[i]!));
      const all = checks.reduce((sum, c) => sum + c.weight, 0);
      assert.equal(item.score, checks.filter((c) => c.ok).reduce((sum, c) => sum + c.weight, 0) / all);
    });
    // rankBy 'random', the control: a draw per candidate, fixed by the seed, round and step, unrelated to the videos.
    const byRandom = async (campaignId: string, seed: number, round = 1) =>
      store.getJson<LabelSet>((await runStageLocally(store, 'label', { campaignId, round, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { ...judging, seed, rankBy: 'random' } })).outputs.labels!);
    const random = await byRandom('random-a', 11);
    assert.equal(random.rankBy, 'random');
    assert.ok(random.items.every((it) => it.score >= 0 && it.score < 1));
    assert.equal(new Set(random.items.map((it) => it.score)).size, random.items.length);
    assert.deepEqual((await byRandom('random-b', 11)).items.map((it) => it.score), random.items.map((it) => it.score), 'the same seed and round draw the same');
    assert.notDeepEqual((await byRandom('random-c', 12)).items.map((it) => it.score), random.items.map((it) => it.score), 'another seed draws others');
    assert.notDeepEqual((await byRandom('random-d', 11, 2)).items.map((it) => it.score), random.items.map((it) => it.score), 'another round draws others');
  });

  test("bootstrap with criticVision 'detector' and humanEvidence 'clipped': its own cache, a detector critic, a clipped panel, and stages that read both", async () => {
    const params = { ...BOOT, criticVision: 'detector', humanEvidence: 'clipped' };
    const boot2 = await runStageLocally(store, 'bootstrap', { campaignId: 'c-detector', round: 0, params });
    assert.equal(boot2.metrics.reusedCache ?? 0, 0, 'another tower and panel are another bootstrap');
    const critic = await loadCritic(store, boot2.outputs.critic!);
    assert.deepEqual([critic.config.featureVersion, critic.config.features], [2, featureSize(2)]);
    // The clipped panel scores the same videos as the default (graded) one, but stops at 0.
    const [graded, clipped] = [await store.getJson<HumanSet>(boot.outputs.humanSeed!), await store.getJson<HumanSet>(boot2.outputs.humanSeed!)];
    const videos = (set: HumanSet) => set.records.flatMap((r) => [r.a, r.b]);
    assert.deepEqual(videos(graded).map((v) => [v.id, v.origin]), videos(clipped).map((v) => [v.id, v.origin]), 'the same videos');
    const changed = videos(graded).filter((v, i) => v.pointwise.scores.semantic !== videos(clipped)[i]!.pointwise.scores.semantic);
    assert.ok(changed.length > 0, 'the clipped panel scores some video differently');
    assert.deepEqual([graded.stats.evidence, clipped.stats.evidence], ['graded', 'clipped'], 'each set says how its panel read the evidence');
    const validated = await runStageLocally(store, 'validate', { campaignId: 'c-detector', round: 1, inputs: { critic: boot2.outputs.critic!, humanTest: boot2.outputs.humanTest! }, params: { seed: 11, paths: 2 } });
    assert.ok(validated.metrics.agreementPairwise! >= 0 && validated.metrics.agreementPairwise! <= 1);
    // validate cached the test set's features, computed from the stored videos, for the next rounds.
    const cached = await store.head(criticFeaturesCacheKey(boot2.outputs.humanTest!, 2));
    assert.ok(cached);
    const matrix = await getMatrix(store, cached);
    const test2 = await store.getJson<HumanSet>(boot2.outputs.humanTest!);
    const stored = await getVideos(store, test2.videos);
    assert.equal(matrix.rows, stored.videos.length);
    stored.videos.forEach((v, i) => assert.deepEqual(matrix.data.slice(i * matrix.cols, (i + 1) * matrix.cols), videoFeatures(v, 2), stored.ids[i]));
    const again = await runStageLocally(store, 'validate', { campaignId: 'c-detector', round: 2, inputs: { critic: boot2.outputs.critic!, humanTest: boot2.outputs.humanTest! }, params: { seed: 11, paths: 2 } });
    assert.equal(again.metrics.agreementPairwise, validated.metrics.agreementPairwise, 'the cached features judge alike');
    const sample = await runStageLocally(store, 'sample', { campaignId: 'c-detector', round: 1, inputs: { generator: boot2.outputs.generator! }, params: { seed: 11, promptsPerRound: 3, candidatesPerPrompt: 3 } });
    const labels = await runStageLocally(store, 'label', { campaignId: 'c-detector', round: 1, inputs: { critic: boot2.outputs.critic!, samples: sample.outputs.samples! }, params: { seed: 11, paths: 2 } });
    assert.equal(labels.metrics.videos, 9);
    await assert.rejects(runStageLocally(store, 'bootstrap', { campaignId: 'c-bad', round: 0, params: { ...BOOT, criticVision: 'eyes' } }), /criticVision/);
  });

  test('generatorTrain with loraRank trains low-rank adapters and ships merged weights', async () => {
    const o = boot.outputs;
    const inputs = await trainingInputs('lora', 1, 3);
    const trained = await runStageLocally(store, 'generatorTrain', { campaignId: 'lora', round: 1, inputs, params: { seed: 11, method: 'dpo', learningRate: 1e-2, steps: 4, loraRank: 2 } });
    const [base, tuned] = [await loadGenerator(store, o.generator!), await loadGenerator(store, trained.outputs.generator!)];
    assert.deepEqual(Object.keys(tuned.params).sort(), Object.keys(base.params).sort(), 'no adapter tensors in the checkpoint');
    const changed = Object.keys(base.params).filter((k) => base.params[k]!.data.some((v, i) => v !== tuned.params[k]!.data[i]));
    assert.ok(changed.length > 0 && changed.every((k) => k.startsWith('den.') && k.endsWith('.w')), `only denoiser matrices change: ${changed.join(', ')}`);
    assert.ok(finite(trained.metrics));
  });

  test('generatorTrain resumes from its interim save after a crash, ending where an uninterrupted run ends', async () => {
    const inputs = await trainingInputs('r', 2, 4);
    const params = { seed: 11, method: 'dpo', learningRate: 1e-4, steps: 12, interimEvery: 4, lambdaReal: 0.5 };
    const clean = await runStageLocally(store, 'generatorTrain', { campaignId: 'clean', round: 2, inputs, params });

    const crash = new AbortController();
    await assert.rejects(
      runStageLocally(store, 'generatorTrain', {
        campaignId: 'crash',
        round: 2,
        inputs,
        params,
        signal: crash.signal,
        onProgress: (done) => {
          if (done >= 9) crash.abort();
        },
      }),
      /cancelled/,
    );
    const resumed = await runStageLocally(store, 'generatorTrain', { campaignId: 'crash', round: 2, inputs, params });
    assert.ok(resumed.metrics.stepsPerSecond! > 0);
    const [a, b] = await Promise.all([loadGenerator(store, clean.outputs.generator!), loadGenerator(store, resumed.outputs.generator!)]);
    assert.equal(weightsDigest(b.params), weightsDigest(a.params));
    const curve = await store.getJson<{ steps: { step: number }[] }>(resumed.outputs.losses!);
    assert.deepEqual(curve.steps.map((s) => s.step), Array.from({ length: 12 }, (_, i) => i + 1));
  });

  test('wrong or corrupt inputs are refused with the input and file named', async () => {
    const o = boot.outputs;
    await assert.rejects(runStageLocally(store, 'sample', { round: 3, inputs: { generator: o.evalPrompts! }, params: { promptsPerRound: 2, candidatesPerPrompt: 2 } }), /checkpoint .*eval-prompts\.json: magic/);
    await assert.rejects(runStageLocally(store, 'pceFilter', { round: 3, inputs: { labels: o.realVideos!, critic: o.critic! } }), /input "labels" .* is not a dual-ipo\/labels@1 manifest/);
    await assert.rejects(runStageLocally(store, 'label', { round: 3, inputs: { critic: o.critic! } }), /missing input "samples"/);
    await assert.rejects(runStageLocally(store, 'sample', { round: 3, inputs: { generator: o.generator! }, params: { promptsPerRound: 'many', candidatesPerPrompt: 2 } }), /param "promptsPerRound" must be a finite number/);
    // A baseline must be scores of the same evaluation prompts.
    const notScores = await runStageLocally(store, 'evaluate', { round: 3, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: o.evalPrompts! } }).catch((e: Error) => e);
    assert.match(String(notScores), /input "baseline" \(.*\) is not a scores file/);
    const self = await runStageLocally(store, 'evaluate', { round: 3, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts! } });
    const otherPrompts = await store.putJson('scratch/other-prompts-scores.json', { ...(await store.getJson<object>(self.outputs.scores!)), evalPrompts: 'f'.repeat(64) });
    await assert.rejects(runStageLocally(store, 'evaluate', { round: 4, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: otherPrompts } }), /input "baseline" .* scored other evaluation prompts/);
    const { videoParts: _parts, ...older } = await store.getJson<Record<string, unknown>>(self.outputs.scores!);
    const withoutParts = await store.putJson('scratch/scores-without-parts.json', older);
    const old = await runStageLocally(store, 'evaluate', { round: 6, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: withoutParts } });
    assert.equal(old.metrics.gainStandardError, undefined, 'scores from before per-video parts: no error bar, no failure');
    const same = await runStageLocally(store, 'evaluate', { round: 5, inputs: { generator: o.generator!, evalPrompts: o.evalPrompts!, baseline: self.outputs.scores! } });
    assert.deepEqual([same.metrics.pairedGain, same.metrics.gainStandardError], [0, 0], 'the same generator on the same prompts and seeds: no gain, no error');
    const tampered: ArtifactRef = { ...o.generator!, sha256: '0'.repeat(64) };
    await assert.rejects(runStageLocally(store, 'evaluate', { round: 3, inputs: { generator: tampered, evalPrompts: o.evalPrompts! } }), /checkpoint .*generator\.ckpt: file is corrupt/);
  });
});
