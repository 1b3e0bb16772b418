// evaluate: the held-out evaluation prompts at fixed seeds, sampled on onnxruntime-node and scored
// by the world's VBench-style evaluator; a few GIFs go with the scores for the report. With the
// champion's scores as `baseline`, the gain's paired standard error (the eval gate's error bar).
import type { StageContext, StageOutput } from '../contract';
import type { ArtifactRef } from '../../artifacts';
import { VBENCH_DIMENSIONS } from '../../core';
import { encodeGif, evaluateVideos, pairedTotalGain, videoParts, type Video, type VideoParts } from '../../world';
import { getManifest, type EvalPromptSet } from '../../models/datasets';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator } from '../../models/generator-serving';
import { ConfigError, readParams } from '../params';
import { finiteMetrics, input, prepare, runtimeOptions, throwIfCancelled } from './common';

/** How many evaluation videos get a GIF in the report. */
export const GIFS = 8;

/**
 * Optional input `baseline`: another generator's scores.json on the same evaluation prompts (the
 * champion's, for the eval gate). Its per-video parts, or undefined when there is no baseline or it
 * predates them. Scores of other prompts are refused by name: pairing them would be wrong.
 */
export async function baselineParts(ctx: StageContext, evalSet: EvalPromptSet, videos: number): Promise<VideoParts | undefined> {
  const ref = ctx.request.inputs['baseline'];
  if (!ref) return undefined;
  const base = await ctx.store.getJson<{ format?: string; evalPrompts?: string; videoParts?: VideoParts }>(ref);
  if (base.format !== 'dual-ipo/scores@1') throw new ConfigError(`evaluate: input "baseline" (${ref.uri}) is not a scores file (format ${base.format ?? 'missing'})`);
  const prompts = input(ctx, 'evalPrompts').sha256;
  if (base.evalPrompts !== undefined && base.evalPrompts !== prompts) {
    throw new ConfigError(`evaluate: input "baseline" (${ref.uri}) scored other evaluation prompts (${base.evalPrompts.slice(0, 12)}, not ${prompts.slice(0, 12)})`);
  }
  if (!base.videoParts) {
    ctx.log(`evaluate: baseline ${ref.uri} has no per-video parts (written before they were kept); no standard error`);
    return undefined;
  }
  if (evalSet.prompts.length < 2) {
    ctx.log('evaluate: a standard error over prompts needs at least 2 evaluation prompts; none');
    return undefined;
  }
  if (base.videoParts.values.length !== videos) throw new ConfigError(`evaluate: input "baseline" (${ref.uri}) scored ${base.videoParts.values.length} videos, this evaluation ${videos} (${evalSet.prompts.length} prompts)`);
  return base.videoParts;
}

type Evaluated = Pick<ReturnType<typeof evaluateVideos>, 'total' | 'quality' | 'semantic' | 'dimensions' | 'coverage' | 'missing'>;

/** The head of scores.json, the same for one activity and for a merge of shards. */
export function scoresHead(ctx: StageContext, generator: ArtifactRef, result: Evaluated, videos: number) {
  return {
    format: 'dual-ipo/scores@1',
    generator: generator.sha256,
    evalPrompts: input(ctx, 'evalPrompts').sha256,
    total: result.total,
    quality: result.quality,
    semantic: result.semantic,
    dimensions: result.dimensions,
    coverage: result.coverage,
    missing: result.missing,
    videos,
  };
}

/** The stage's metrics; with the champion's parts, the gain's paired error (the eval gate's error bar). */
export function evaluationMetrics(result: Evaluated, videos: number, parts: VideoParts, baseline: VideoParts | undefined, samplesPerPrompt: number, extra: Record<string, number>): Record<string, number> {
  const metrics: Record<string, number> = { total: result.total, quality: result.quality, semantic: result.semantic, videos, ...extra };
  for (const d of VBENCH_DIMENSIONS) metrics[`dim_${d}`] = result.dimensions[d];
  if (baseline) {
    // The champion's video i came from the same prompt and seed.
    const paired = pairedTotalGain(baseline, parts, (i) => Math.floor(i / samplesPerPrompt));
    metrics.pairedGain = paired.gain;
    metrics.gainStandardError = paired.standardError;
  }
  return finiteMetrics(metrics);
}

export async function evaluateStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('evaluate', ctx);
  const generatorRef = input(ctx, 'generator');
  const model = await loadGenerator(ctx.store, generatorRef);
  const evalSet = await getManifest<EvalPromptSet>(ctx.store, input(ctx, 'evalPrompts'), 'dual-ipo/eval-prompts@1', 'evalPrompts');
  // A shard scores its slice of the prompts; the merge (shards.ts) joins the parts and pairs them
  // with the baseline, so a shard ignores `baseline`.
  const shard = ctx.request.shard;
  const prompts = shard ? evalSet.prompts.slice(shard.from, shard.to) : evalSet.prompts;
  const firstVideo = shard ? Math.min(shard.from, evalSet.prompts.length) * evalSet.samplesPerPrompt : 0;
  const requests = prompts.flatMap((pr) => Array.from({ length: evalSet.samplesPerPrompt }, (_, k) => ({ prompt: pr.text, seed: `${evalSet.seed}/${pr.id}/${k}` })));
  const specs = prompts.flatMap((pr) => Array.from({ length: evalSet.samplesPerPrompt }, () => pr.spec));
  const baseline = shard ? undefined : await baselineParts(ctx, evalSet, requests.length);
  const started = performance.now();
  const generator = await OnnxGenerator.create(model, await generatorOnnxBytes(ctx.store, generatorRef, model), runtimeOptions(p));
  let videos: Video[];
  try {
    ({ videos } = await generator.sample(requests, { batch: p.batch, onBatch: (done) => ctx.progress(done, requests.length, undefined, `sampled ${done}/${requests.length} evaluation videos`) }));
  } finally {
    await generator.release();
  }
  const sampling = (performance.now() - started) / 1000;
  throwIfCancelled(ctx);
  const result = evaluateVideos(videos.map((video, i) => ({ spec: specs[i]!, video })), { perVideo: true });
  const parts = videoParts(result);
  const gifs: Record<string, ArtifactRef> = {};
  for (let i = 0; i < Math.min(GIFS - firstVideo, videos.length); i++) {
    const n = firstVideo + i;
    gifs[`gif${n}`] = await ctx.store.put(ctx.outputKey(`gifs/${n}.gif`), encodeGif(videos[i]!), { summary: { prompt: requests[i]!.prompt.slice(0, 120) } });
  }
  const scores = await ctx.store.putJson(ctx.outputKey('scores.json'), {
    ...scoresHead(ctx, generatorRef, result, requests.length),
    // Video i of every generator comes from the same prompt and seed: gates and audits pair them
    // (pairedTotalGain). Parts: each video's dimension values and weights, from which the Total of
    // any subset follows.
    videoTotals: result.videoTotals,
    videoParts: parts,
    gifs: Object.values(gifs),
    prompts: requests.slice(0, Math.max(0, GIFS - firstVideo)).map((r) => r.prompt),
    ...(shard ? { shard } : {}),
  });
  return { outputs: { scores, ...gifs }, metrics: evaluationMetrics(result, requests.length, parts, baseline, evalSet.samplesPerPrompt, { samplingSeconds: sampling }) };
}
