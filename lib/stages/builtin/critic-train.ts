// criticTrain (paper 3.2, appendix C): SRPO. The critic's voted pseudo-labels on the kept pairs,
// PCE-filtered again per label, learnt with srpoLoss (or dpoLoss) against the frozen reference,
// mixed with the human seed set.
import type { StageContext, StageOutput } from '../contract';
import { CriticOnnx, exportCriticOnnx, loadCritic, pseudoLabelPairs, referenceCritic, saveCritic, srpoTrainCritic, type PseudoLabel } from '../../models/critic';
import { getManifest, type PreferenceSet } from '../../models/datasets';
import { Random } from '../../models/nn/random';
import { readParams } from '../params';
import { finiteMetrics, input, prepare, runtimeOptions, throwIfCancelled } from './common';
import { humanExamples } from './critic-features';
import { loadSamples } from './samples';

export async function criticTrainStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('criticTrain', ctx);
  const seed = `${p.seed}/srpo/${ctx.request.round}`;
  const critic = await loadCritic(ctx.store, input(ctx, 'critic'));
  const preferences = await getManifest<PreferenceSet>(ctx.store, input(ctx, 'pseudo'), 'dual-ipo/preferences@1', 'pseudo');
  const seedExamples = await humanExamples(ctx, input(ctx, 'humanSeed'), 'humanSeed', critic.config.featureVersion);
  const loaded = await loadSamples(ctx, preferences.samples);
  const { set } = loaded;
  const features = await loaded.features(critic.config.featureVersion);
  const index = new Map(set.candidates.map((c, i) => [c.id, i]));
  const kept = preferences.pairs.filter((r) => r.kept);
  throwIfCancelled(ctx);

  // Pseudo-labels: the critic's own vote on each kept pair (section 3.2), one per decided dimension.
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  let pseudo: PseudoLabel[];
  try {
    pseudo = await pseudoLabelPairs(
      exec,
      kept.map((r) => ({ id: `${r.chosen}|${r.rejected}`, prompt: r.prompt, a: features[index.get(r.chosen)!]!, b: features[index.get(r.rejected)!]! })),
      { paths: p.paths, seed },
    );
  } finally {
    await exec.release();
  }
  const limit = p.pseudoLabelsPerIteration;
  if (pseudo.length > limit) pseudo = new Random(seed, 'pseudo-subset').shuffle(pseudo).slice(0, limit);
  await ctx.progress(1, 3, undefined, `${pseudo.length} pseudo-labels from ${kept.length} pairs`);

  let model = critic;
  let metrics: Record<string, number> = { pseudoLabels: pseudo.length, pairs: kept.length, kept: 0, total: pseudo.length };
  if (pseudo.length) {
    const trained = await srpoTrainCritic(critic, referenceCritic(critic), pseudo, seedExamples, {
      beta: p.beta,
      usePce: p.usePce,
      loss: p.loss,
      epochs: p.epochs,
      lr: p.learningRate,
      seedMix: p.humanSeedMix,
      seed,
      signal: ctx.signal,
      onProgress: async ({ step, steps, loss }) => {
        if (step % 5 === 0) await ctx.progress(2, 3, undefined, `SRPO step ${step}/${steps}, loss ${loss.toFixed(4)}`);
      },
    });
    model = trained.model;
    metrics = { ...metrics, ...trained.metrics };
  } else {
    ctx.log('criticTrain: no pseudo-labels (no kept pair had a decided vote); the critic is unchanged');
  }
  const key = ctx.outputKey('critic.ckpt');
  await ctx.store.put(`${key}.onnx`, exportCriticOnnx(model));
  const ref = await saveCritic(ctx.store, key, model, { createdBy: 'criticTrain', round: ctx.request.round }, { round: ctx.request.round });
  return { outputs: { critic: ref }, metrics: finiteMetrics(metrics) };
}
