// Round 0: the world's datasets and the base models.
//
//   1. real videos: prompts from the world's sampler, rendered (the paper's D_real)
//   2. the autoencoder, fitted once on them and frozen
//   3. their latents; the base generator pretrained on (latent, prompt) pairs
//   4. evaluation prompts (held out, fixed seeds) and the ground truth's evaluator score on them
//   5. the human seed and test sets (the simulated panel, a share on base-generator samples)
//   6. the critic, warm-started on the seed set with its rationales; its agreement on the test set
//
// Steps 5-6 need nothing from 2-3 unless the human sets include base-generator samples
// (generatorShare > 0): then they follow the generator; otherwise they run in a worker thread beside
// the autoencoder and generator training (critic-branch.ts), one branch per core.
//
// Every phase writes its result at a fixed key under a cache folder named by the hash of everything
// that determines it (seed, sizes, code version; the evaluation prompts are cached per count below it): a new attempt after a crash
// skips finished phases and resumes training from the last interim save, and another campaign with
// the same settings reuses the whole bootstrap.
import type { ArtifactRef } from '../../../artifacts';
import type { StageContext, StageOutput } from '../../contract';
import { fitVocabulary } from '../../../models/text';
import { generatorOnnxBytes, OnnxGenerator } from '../../../models/generator-serving';
import { readParams } from '../../params';
import { finiteMetrics, prepare, runtimeOptions } from '../common';
import { fitFrozenAutoencoder, pretrainBaseGenerator, realVideoSet, renderRealVideos } from './base-models';
import { criticBranch, criticBranchInWorker, type CriticBranchArgs, type CriticBranchResult } from './critic-branch';
import { evaluationSet } from './evaluation-set';
import { bootstrapRun } from './run';
import { bootstrapCacheId, bootstrapSeed, resolveSizes } from './sizes';

export { bootstrapCacheId, bootstrapSeed, MODELS_VERSION, resolveSizes } from './sizes';

export const BOOTSTRAP_OUTPUTS = ['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'] as const;

export async function bootstrapStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('bootstrap', ctx);
  const sizes = resolveSizes(p);
  const seed = bootstrapSeed(p);
  const runtime = runtimeOptions(p);
  const store = ctx.store;
  const started = performance.now();
  // The evaluation prompts are not in the id: changing their number must not retrain the models.
  const prefix = `cache/bootstrap/${bootstrapCacheId(seed, sizes)}/`;
  const finishedKey = `${prefix}outputs.json`;
  const run = bootstrapRun(ctx, prefix, seed, sizes, runtime);

  const finished = await store.head(finishedKey);
  if (finished) {
    const cached = await store.getJson<{ outputs: Record<string, ArtifactRef>; metrics: Record<string, number> }>(finished);
    const verified = await Promise.all(Object.values(cached.outputs).map(async (ref) => (await store.head(store.keyOf(ref.uri)))?.sha256 === ref.sha256));
    if (verified.every(Boolean)) {
      ctx.log('bootstrap: reusing a finished bootstrap with the same settings', { cache: prefix });
      const evaluation = await evaluationSet(run, p.evalPrompts);
      return { outputs: { ...cached.outputs, evalPrompts: evaluation.ref }, metrics: { ...cached.metrics, ...evaluation.metrics, reusedCache: 1 } };
    }
  }

  const real = await renderRealVideos(run);
  await run.progress(2, `rendered ${real.prompts.length} real videos`);
  const vocab = fitVocabulary(real.prompts.map((pr) => pr.text));
  const branchArgs: CriticBranchArgs = { prefix, seed, sizes, vocab, paths: p.paths, runtime };
  const reportCritic = (fraction: number, message: string) => {
    run.setCriticStatus(message);
    if (fraction === 1) ctx.log(`bootstrap: ${message}`);
  };
  // 5-6 in parallel when they do not need the generator; their outcome is awaited at the end.
  const parallelCritic: Promise<{ result?: CriticBranchResult; error?: Error }> | undefined =
    sizes.generatorShare === 0 && !p.sequential
      ? criticBranchInWorker(ctx.request.store, branchArgs, reportCritic, ctx.signal).then(
          (result) => ({ result }),
          (error: Error) => ({ error }),
        )
      : undefined;

  const aeParams = await fitFrozenAutoencoder(run, real);
  const { ref: realVideos, latents } = await realVideoSet(run, real, aeParams);
  await run.progress(25, 'real-video dataset written');
  const { generatorRef, generator, pretrainLoss } = await pretrainBaseGenerator(run, real, aeParams, latents, vocab);
  await run.progress(60, 'base generator ready');

  // 4. The evaluation prompts and their ground truth, while the worker may still be busy.
  const evaluation = await evaluationSet(run, p.evalPrompts);

  // 5-6. Human sets and the critic: from the worker, or now (in-process, with generator samples when asked).
  let critic: CriticBranchResult | undefined;
  let criticInWorker = 0;
  if (parallelCritic) {
    const outcome = await run.phase('critic-branch-wait', () => parallelCritic);
    if (outcome.error) {
      if (ctx.signal.aborted) throw outcome.error;
      // Finished phases are cached, so redoing the branch here only redoes what the worker did not finish.
      ctx.log('bootstrap: the critic worker failed; running the critic branch in-process', { error: outcome.error.message });
    }
    critic = outcome.result;
    if (critic) criticInWorker = 1;
  }
  if (!critic) {
    const onnxGenerator = sizes.generatorShare > 0 ? await OnnxGenerator.create(generator, await generatorOnnxBytes(store, generatorRef, generator), runtime) : undefined;
    try {
      critic = await run.phase('critic-branch', () => criticBranch(store, branchArgs, (f, m) => run.progress(62 + Math.round(36 * f), m), { generator: onnxGenerator, signal: ctx.signal }));
    } finally {
      await onnxGenerator?.release();
    }
  }

  const outputs: Record<string, ArtifactRef> = {
    generator: generatorRef,
    critic: critic.critic,
    humanSeed: critic.humanSeed,
    humanTest: critic.humanTest,
    realVideos,
  };
  const modelMetrics = {
    realVideos: real.prompts.length,
    pretrainLossFinal: pretrainLoss,
    ...critic.metrics,
    criticInWorker,
    ...run.timings,
    seconds: (performance.now() - started) / 1000,
  };
  // The models' record leaves out the evaluation set: a reuse adds the set of its own count.
  const { 'seconds_ground-truth-eval': _evalSeconds, ...modelTimings } = modelMetrics as Record<string, number>;
  await store.putJson(finishedKey, { outputs, metrics: finiteMetrics(modelTimings) });
  await run.progress(100, 'bootstrap finished');
  return { outputs: { ...outputs, evalPrompts: evaluation.ref }, metrics: finiteMetrics({ ...modelMetrics, ...evaluation.metrics }) };
}
