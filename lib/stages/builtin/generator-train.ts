// generatorTrain: Diffusion-DPO on the round's kept pairs or Diffusion-KTO on its pointwise data
// (lib/models/generator-align.ts), regularised on the real videos, from the champion generator
// (which is also the frozen reference). Interim weights are saved every `interimEvery` steps so a
// crashed attempt resumes; the loss curve is written as an artifact.
import type { StageContext, StageOutput } from '../contract';
import { getManifest, getMatrix, type PreferenceSet, type RealVideoSet } from '../../models/datasets';
import { alignGenerator, type AlignRecord, type LatentPair, type LatentPoint } from '../../models/generator-align';
import { loadGenerator, saveGenerator } from '../../models/generator-serving';
import { tokenize } from '../../models/text';
import { readParams } from '../params';
import { finiteMetrics, input, loadInterim, prepare, saveInterim } from './common';
import { loadSamples } from './samples';

export async function generatorTrainStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('generatorTrain', ctx);
  const { method, steps, interimEvery, loraRank } = p;
  const generatorRef = input(ctx, 'generator');
  const model = await loadGenerator(ctx.store, generatorRef);
  const preferences = await getManifest<PreferenceSet>(ctx.store, input(ctx, 'preferences'), 'dual-ipo/preferences@1', 'preferences');
  const real = await getManifest<RealVideoSet>(ctx.store, input(ctx, 'realVideos'), 'dual-ipo/real-videos@1', 'realVideos');
  const { set, latents, dim } = await loadSamples(ctx, preferences.samples);
  const row = new Map(set.candidates.map((c, i) => [c.id, i]));
  const latentOf = (id: string) => {
    const i = row.get(id);
    if (i === undefined) throw new Error(`generatorTrain: preference data names video "${id}", which is not in its samples`);
    return latents.subarray(i * dim, (i + 1) * dim);
  };
  const pairs: LatentPair[] = preferences.pairs.filter((r) => r.kept).map((r) => ({ prompt: r.prompt, chosen: latentOf(r.chosen), rejected: latentOf(r.rejected) }));
  const points: LatentPoint[] = preferences.points.map((pt) => ({ prompt: pt.prompt, latent: latentOf(pt.id), desirable: pt.desirable }));
  // real-sft trains on real videos only, in the rounds that would have trained (its implicit accuracy is measured on the pairs).
  const items = method === 'kto' ? points.length : pairs.length;
  const outKey = ctx.outputKey('generator.ckpt');

  if (items === 0) {
    // Nothing passed the filter: the candidate is the champion itself (the eval gate then compares equals).
    ctx.log('generatorTrain: no preference data passed the filter; the generator is unchanged', { method });
    const ref = await saveGenerator(ctx.store, outKey, { ...model, meta: { ...model.meta, createdBy: 'generatorTrain', round: ctx.request.round, parent: generatorRef.sha256, unchanged: true } });
    const losses = await ctx.store.putJson(ctx.outputKey('losses.json'), { format: 'dual-ipo/losses@1', method, steps: [] });
    return { outputs: { generator: ref, losses }, metrics: { items: 0, steps: 0, lossFirst: 0, lossFinal: 0, lossMax: 0, nanCount: 0, implicitAccuracy: 0 } };
  }

  const realLatents = await getMatrix(ctx.store, real.latents);
  if (realLatents.cols !== dim) throw new Error(`generatorTrain: real-video latents have ${realLatents.cols} values, the generator's latent has ${dim} (built with another autoencoder?)`);
  const interimKey = ctx.outputKey('interim/generator.ckpt');
  const resume = await loadInterim(ctx, interimKey);
  if (resume) ctx.log('generatorTrain: resuming from interim weights', { step: resume.step });
  const started = performance.now();
  // The curve so far travels with the interim weights, so a resumed run reports the whole of it.
  const curve: AlignRecord[] = resume ? [...((resume.extra.history as AlignRecord[]) ?? [])] : [];
  const result = await alignGenerator(
    model,
    { pairs, points, real: { latents: realLatents.data, tokens: tokenize(real.prompts.map((pr) => pr.text), model.config.text), count: realLatents.rows } },
    {
      method,
      betaDpo: p.betaDpo,
      betaKto: p.betaKto,
      lambdaPreferred: p.lambdaPreferred,
      lambdaReal: p.lambdaReal,
      learningRate: p.learningRate,
      steps,
      batch: p.batch,
      realBatch: p.realBatch,
      seed: `${p.seed}/align/${ctx.request.round}`,
      ...(loraRank > 0 ? { lora: { rank: loraRank, alpha: p.loraAlpha ?? loraRank } } : {}),
      signal: ctx.signal,
      ...(resume ? { resume: { params: { ...model.params, ...resume.params }, state: resume.state, step: resume.step, history: [...curve] } } : {}),
      onStep: async (step, record, trainer) => {
        curve.push(record);
        if (step % interimEvery === 0 && step < steps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: trainer.params(), state: trainer.optimizerState(), extra: { history: curve } });
          await ctx.progress(step, steps, { interim: ref, step }, `step ${step}/${steps}, loss ${record.loss.toFixed(4)}`);
        } else if (step % 10 === 0) await ctx.progress(step, steps, undefined, `step ${step}/${steps}, loss ${record.loss.toFixed(4)}`);
      },
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const ref = await saveGenerator(ctx.store, outKey, { config: model.config, params: result.params, meta: { ...model.meta, createdBy: 'generatorTrain', method, round: ctx.request.round, parent: generatorRef.sha256 } });
  const losses = await ctx.store.putJson(ctx.outputKey('losses.json'), { format: 'dual-ipo/losses@1', method, steps: result.history });
  return {
    outputs: { generator: ref, losses },
    metrics: finiteMetrics({
      items,
      steps: result.metrics.steps,
      lossFirst: result.metrics.lossFirst,
      lossFinal: result.metrics.lossFinal,
      lossMax: result.metrics.lossMax,
      nanCount: result.metrics.nanCount,
      implicitAccuracy: result.metrics.implicitAccuracy,
      implicitAccuracyBefore: result.metrics.implicitAccuracyBefore,
      seconds,
      stepsPerSecond: (result.metrics.steps - (resume?.step ?? 0)) / Math.max(1e-9, seconds),
    }),
  };
}
