// Round 0: the world's datasets and the base models.
//
//   1. real videos: prompts from the world's sampler, rendered (the paper's D_real)
//   2. the autoencoder, fitted once on them and frozen
//   3. their latents; the base generator pretrained on (latent, prompt) pairs
//   4. evaluation prompts (held out, fixed seeds) and the ground truth's evaluator score on them
//   5. the human seed and test sets (the simulated panel, a share on base-generator samples)
//   6. the critic, warm-started on the seed set with its rationales; its agreement on the test set
//
// Every phase writes its result at a fixed key under a cache folder named by the hash of everything
// that determines it (seed, sizes, evaluation prompts, code version): a new attempt after a crash
// skips finished phases and resumes training from the last interim save, and another campaign with
// the same settings reuses the whole bootstrap.
import * as tf from '@tensorflow/tfjs';
import type { StageContext, StageOutput } from '../../../activities/types';
import type { ArtifactRef } from '../../artifacts';
import { sha256Hex, stableStringify } from '../../artifacts/stable-json';
import { evaluateVideos, renderVideo, samplePrompts, type Video } from '../../world';
import { encodeVideos as encodeLatents, fitAutoencoder, latentSize, type AutoencoderConfig } from '../autoencoder';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { criticAgreement, criticExamples, CriticOnnx, criticParamShapes, exportCriticOnnx, FEATURE_VERSION, initCritic, saveCritic, warmStartCritic, loadCritic } from '../critic';
import { fromPairRecord, getManifest, getVideos, promptRecord, putMatrix, putVideos, toPairRecords, type EvalPromptSet, type HumanSet, type RealVideoSet } from '../datasets';
import { DEFAULT_SCHEDULE } from '../diffusion';
import { initGenerator, pretrainGenerator, type GeneratorConfig } from '../generator';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator, saveGenerator, weightsDigest, type GeneratorModel } from '../generator-serving';
import { buildHumanSet } from '../human-sets';
import type { ParamSet } from '../nn/params';
import { TfOps, disposeTensors, tensorsOf } from '../nn/tf-ops';
import { SIZE_PRESETS, type Sizes } from '../sizes';
import { fitVocabulary, tokenize } from '../text';
import { toTubelets, tubeletCount, tubeletSize } from '../video';
import { ConfigError, finiteMetrics, loadInterim, paramsOf, prepare, runtimeOptions, saveInterim, throwIfCancelled, type Params } from './common';

/** Bumped when a change to the models makes cached bootstraps invalid. */
export const MODELS_VERSION = 1;

export const BOOTSTRAP_OUTPUTS = ['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'] as const;

/** The preset named by param `size` (default quickstart), with any field overridden by a param of that name. */
export function resolveSizes(p: Params, raw: Record<string, unknown>): Sizes {
  const preset = p.oneOf('size', Object.keys(SIZE_PRESETS) as (keyof typeof SIZE_PRESETS)[], 'quickstart');
  const sizes: Sizes = { ...SIZE_PRESETS[preset] };
  for (const key of Object.keys(sizes) as (keyof Sizes)[]) {
    if (key === 'critic' || raw[key] === undefined) continue;
    const integer = !['pretrainLearningRate', 'guidance', 'generatorShare', 'criticLearningRate'].includes(key);
    (sizes as unknown as Record<string, number>)[key] = integer ? p.int(key, undefined, key === 'humanSeedPairs' || key === 'humanTestVideos' ? 2 : 1) : p.number(key, undefined, { min: 0 });
  }
  if (sizes.humanTestVideos % 2) throw new ConfigError(`bootstrap: param "humanTestVideos" must be even (pairs of videos), got ${sizes.humanTestVideos}`);
  return sizes;
}

const evalSeeds = (seed: string, promptId: string, k: number) => `${seed}/eval/${promptId}/${k}`;

export async function bootstrapStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const sizes = resolveSizes(p, ctx.request.params);
  const seed = p.seed();
  const evalCount = p.int('evalPrompts', 64, 1);
  const runtime = runtimeOptions(p);
  const store = ctx.store;
  const started = performance.now();
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    throwIfCancelled(ctx);
    const t = performance.now();
    const out = await f();
    timings[`seconds_${name}`] = (performance.now() - t) / 1000;
    ctx.log(`bootstrap: ${name} done`, { seconds: timings[`seconds_${name}`] });
    return out;
  };

  // Everything the cached models depend on, including the shapes of the critic's parameters and the
  // version of its pixel statistics (another engineer's architecture change must not reuse old files).
  const cacheId = sha256Hex(stableStringify({ version: MODELS_VERSION, seed, sizes, evalCount, critic: criticParamShapes({ ...sizes.critic, text: { ...sizes.critic.text, vocab: ['<pad>', '<unk>'] } }), features: FEATURE_VERSION })).slice(0, 20);
  const prefix = `cache/bootstrap/${cacheId}/`;
  const finishedKey = `${prefix}outputs.json`;
  const finished = await store.head(finishedKey);
  if (finished) {
    const cached = await store.getJson<{ outputs: Record<string, ArtifactRef>; metrics: Record<string, number> }>(finished);
    const verified = await Promise.all(Object.values(cached.outputs).map(async (ref) => (await store.head(store.keyOf(ref.uri)))?.sha256 === ref.sha256));
    if (verified.every(Boolean)) {
      ctx.log('bootstrap: reusing a finished bootstrap with the same settings', { cache: prefix });
      return { outputs: cached.outputs, metrics: { ...cached.metrics, reusedCache: 1 } };
    }
  }
  const at = async (name: string) => store.head(`${prefix}${name}`);
  const progress = (done: number, message: string, interim?: ArtifactRef) => ctx.progress(done, 100, { cache: prefix, ...(interim ? { interim } : {}) }, message);

  // 1. Real videos.
  const aeConfig: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: sizes.autoencoderChannels, hidden: sizes.autoencoderHidden };
  const N = tubeletCount(aeConfig);
  const PD = tubeletSize(aeConfig);
  const D = latentSize(aeConfig);
  const { prompts, videos, tubelets } = await phase('render', async () => {
    const prompts = samplePrompts({ count: sizes.realVideos, seed: `${seed}/real` });
    const videos: Video[] = [];
    const tubelets = new Float32Array(prompts.length * N * PD);
    prompts.forEach((pr, i) => {
      const v = renderVideo(pr.spec, { seed: `${seed}/real/${i}` });
      videos.push(v);
      toTubelets(v.data, aeConfig, tubelets, i * N * PD);
    });
    return { prompts, videos, tubelets };
  });
  await progress(2, `rendered ${prompts.length} real videos`);

  // 2. The autoencoder.
  const aeParams = await phase('autoencoder', async () => {
    const done = await at('autoencoder.ckpt');
    if (done) return decodeCheckpoint(await store.get(done), done.uri, { kind: 'autoencoder' }).params;
    const interimKey = `${prefix}interim/autoencoder.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const params = await fitAutoencoder(aeConfig, tubelets, {
      steps: sizes.autoencoderSteps,
      batch: sizes.autoencoderBatch,
      learningRate: 2e-3,
      seed,
      signal: ctx.signal,
      ...(resume ? { resume: { params: resume.params, state: resume.state, step: resume.step } } : {}),
      onStep: async (step, loss, trainer) => {
        if (step % 100 === 0 && step < sizes.autoencoderSteps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: trainer.params(), state: trainer.optimizerState(), extra: { loss } });
          await progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}, loss ${loss.toFixed(5)}`, ref);
        } else if (step % 20 === 0) await progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}`);
      },
    });
    await store.put(`${prefix}autoencoder.ckpt`, encodeCheckpoint({ kind: 'autoencoder', config: aeConfig, meta: { seed }, params }));
    return params;
  });

  // 3. Latents, the real-video dataset, and the base generator.
  const vocab = fitVocabulary(prompts.map((pr) => pr.text));
  const genConfig: GeneratorConfig = {
    autoencoder: aeConfig,
    text: { vocab, maxTokens: sizes.maxTokens, embed: sizes.textEmbed, hidden: sizes.textHidden, out: sizes.textOut },
    denoiser: { hidden: sizes.denoiserHidden, blocks: sizes.denoiserBlocks, timeEmbed: 128 },
    schedule: DEFAULT_SCHEDULE,
    sampler: { steps: sizes.samplerSteps, guidance: sizes.guidance, clipLatent: 4 },
  };
  const latents = await phase('latents', async () => encodeAll(aeParams, aeConfig, tubelets, prompts.length));
  const realVideos = await phase('real-videos', async () => {
    const done = await at('real-videos.json');
    if (done) return done;
    const set: RealVideoSet = {
      format: 'dual-ipo/real-videos@1',
      prompts: prompts.map(promptRecord),
      renderSeeds: prompts.map((_, i) => `${seed}/real/${i}`),
      videos: await putVideos(store, `${prefix}real-videos/videos.dipv`, videos, prompts.map((pr) => pr.id)),
      latents: await putMatrix(store, `${prefix}real-videos/latents.bin`, latents, prompts.length, D),
      autoencoder: weightsDigest(aeParams),
    };
    return store.putJson(`${prefix}real-videos.json`, set, { summary: { videos: prompts.length } });
  });
  await progress(25, 'real-video dataset written');

  const { generatorRef, generator, pretrainLoss } = await phase('generator', async () => {
    const done = await at('generator.ckpt');
    if (done) return { generatorRef: done, generator: await loadGenerator(store, done), pretrainLoss: Number.NaN };
    const interimKey = `${prefix}interim/generator.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const losses: number[] = [];
    const params = await pretrainGenerator(genConfig, initGenerator(genConfig, aeParams, seed), { latents, tokens: tokenize(prompts.map((pr) => pr.text), genConfig.text), count: prompts.length }, {
      steps: sizes.pretrainSteps,
      batch: sizes.pretrainBatch,
      learningRate: sizes.pretrainLearningRate,
      seed,
      signal: ctx.signal,
      ...(resume ? { resume: { params: { ...aeParams, ...resume.params }, state: resume.state, step: resume.step } } : {}),
      onStep: async (step, loss, trainer) => {
        losses.push(loss);
        const pct = 25 + Math.round((35 * step) / sizes.pretrainSteps);
        if (step % 300 === 0 && step < sizes.pretrainSteps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: withoutAutoencoder(trainer.params()), state: trainer.optimizerState(), extra: { loss } });
          await progress(pct, `base generator step ${step}/${sizes.pretrainSteps}, loss ${loss.toFixed(4)}`, ref);
        } else if (step % 20 === 0) await progress(pct, `base generator step ${step}/${sizes.pretrainSteps}`);
      },
    });
    const model: GeneratorModel = { config: genConfig, params, meta: { createdBy: 'bootstrap', seed } };
    const tail = losses.slice(-Math.max(1, Math.floor(losses.length / 10)));
    const pretrainLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    const ref = await saveGenerator(store, `${prefix}generator.ckpt`, model, { version: 'g0' });
    return { generatorRef: ref, generator: model, pretrainLoss };
  });
  await progress(60, 'base generator ready');

  // 4. Evaluation prompts and the ground truth's score on them.
  const evalPrompts = samplePrompts({ count: evalCount, seed: `${seed}/eval` });
  const evalSet: EvalPromptSet = { format: 'dual-ipo/eval-prompts@1', prompts: evalPrompts.map(promptRecord), samplesPerPrompt: sizes.evalSamplesPerPrompt, seed: `${seed}/eval` };
  const evalRef = await store.putJson(`${prefix}eval-prompts.json`, evalSet, { summary: { prompts: evalCount } });
  const groundTruth = await phase('ground-truth-eval', async () =>
    evaluateVideos(evalPrompts.flatMap((pr) => Array.from({ length: sizes.evalSamplesPerPrompt }, (_, k) => ({ spec: pr.spec, video: renderVideo(pr.spec, { seed: evalSeeds(seed, pr.id, k) }) })))),
  );

  // 5. Human seed and test sets.
  const onnxGenerator = await OnnxGenerator.create(generator, await generatorOnnxBytes(store, generatorRef, generator), runtime);
  let humanSeedRef: ArtifactRef;
  let humanTestRef: ArtifactRef;
  let seedRecords;
  let testRecords;
  try {
    const humanSet = async (split: 'seed' | 'heldout-test', pairs: number, name: string, lo: number, hi: number) => {
      const existing = await at(`${name}.json`);
      if (existing) {
        const set = await getManifest<HumanSet>(store, existing, 'dual-ipo/human-set@1', name);
        return { ref: existing, records: toPairRecords(set, await getVideos(store, set.videos)) };
      }
      const built = await buildHumanSet({
        split,
        pairs,
        seed,
        generator: onnxGenerator,
        generatorShare: sizes.generatorShare,
        signal: ctx.signal,
        onProgress: (done, total) => progress(lo + Math.round(((hi - lo) * done) / total), `human ${split} set: ${done}/${total} pairs annotated`),
      });
      const set: HumanSet = {
        format: 'dual-ipo/human-set@1',
        split,
        records: built.records.map(fromPairRecord),
        videos: await putVideos(
          store,
          `${prefix}${name}/videos.dipv`,
          built.records.flatMap((r) => [r.a.video!, r.b.video!]),
          built.records.flatMap((r) => [`${r.id}/a`, `${r.id}/b`]),
        ),
        stats: built.stats,
      };
      return { ref: await store.putJson(`${prefix}${name}.json`, set, { summary: { split, pairs: built.records.length } }), records: built.records };
    };
    ({ ref: humanSeedRef, records: seedRecords } = await phase('human-seed', () => humanSet('seed', sizes.humanSeedPairs, 'human-seed', 62, 75)));
    ({ ref: humanTestRef, records: testRecords } = await phase('human-test', () => humanSet('heldout-test', sizes.humanTestVideos / 2, 'human-test', 75, 80)));
  } finally {
    await onnxGenerator.release();
  }

  // 6. The critic: warm start on the seed set, agreement on the held-out test set.
  const seedExamples = await criticExamples(seedRecords);
  const testExamples = await criticExamples(testRecords);
  const { criticRef, critic, warm } = await phase('critic', async () => {
    const done = await at('critic.ckpt');
    if (done) return { criticRef: done, critic: await loadCritic(store, done), warm: undefined };
    const base = initCritic(sizes.critic, vocab, `${seed}/critic-base`);
    const trained = await warmStartCritic(base, seedExamples, {
      epochs: sizes.criticEpochs,
      lr: sizes.criticLearningRate,
      seed,
      signal: ctx.signal,
      onProgress: async ({ step, steps }) => {
        if (step % 10 === 0) await progress(80 + Math.round((15 * step) / steps), `critic warm start step ${step}/${steps}`);
      },
    });
    await store.put(`${prefix}critic.ckpt.onnx`, exportCriticOnnx(trained.model));
    const ref = await saveCritic(store, `${prefix}critic.ckpt`, trained.model, { createdBy: 'bootstrap' }, { version: 'c0' });
    return { criticRef: ref, critic: trained.model, warm: trained.metrics };
  });
  const agreement = await phase('critic-validate', async () => {
    const exec = await CriticOnnx.create(critic, runtime);
    try {
      return await criticAgreement(exec, testExamples, { paths: p.int('paths', 8, 1), seed: `${seed}/validate` });
    } finally {
      await exec.release();
    }
  });

  const outputs: Record<string, ArtifactRef> = {
    generator: generatorRef,
    critic: criticRef,
    humanSeed: humanSeedRef,
    humanTest: humanTestRef,
    realVideos,
    evalPrompts: evalRef,
  };
  const metrics = finiteMetrics({
    realVideos: prompts.length,
    groundTruthTotal: groundTruth.total,
    groundTruthQuality: groundTruth.quality,
    groundTruthSemantic: groundTruth.semantic,
    pretrainLossFinal: pretrainLoss,
    criticAgreementPairwise: agreement.pairwise.agreement,
    criticAgreementPointwise: agreement.pointwise.agreement,
    criticWarmLossFirst: warm?.lossFirst ?? Number.NaN,
    criticWarmLossFinal: warm?.lossFinal ?? Number.NaN,
    humanSeedPairs: seedExamples.length,
    humanTestPairs: testExamples.length,
    ...timings,
    seconds: (performance.now() - started) / 1000,
  });
  await store.putJson(finishedKey, { outputs, metrics });
  await progress(100, 'bootstrap finished');
  return { outputs, metrics };
}

function withoutAutoencoder(params: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('ae.')));
}

/** Normalised latents of every video (tubelet-major data), in batches. */
function encodeAll(aeParams: ParamSet, c: AutoencoderConfig, tubelets: Float32Array, count: number): Float32Array {
  const N = tubeletCount(c);
  const PD = tubeletSize(c);
  const D = latentSize(c);
  const out = new Float32Array(count * D);
  const tensors = tensorsOf(aeParams);
  try {
    const o = new TfOps(tensors);
    for (let i = 0; i < count; i += 128) {
      const n = Math.min(128, count - i);
      out.set(tf.tidy(() => encodeLatents(o, tf.tensor(tubelets.subarray(i * N * PD, (i + n) * N * PD), [n, N, PD])).dataSync() as Float32Array), i * D);
    }
  } finally {
    disposeTensors(tensors);
  }
  return out;
}
