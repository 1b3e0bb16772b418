// The generator's serving stages, both on onnxruntime-node:
//
//   sample    a round's fresh prompts (from seed and round) x candidates, each with its own noise seed
//   evaluate  the held-out evaluation prompts at fixed seeds, scored by the world's VBench-style
//             evaluator; a few GIFs go with the scores for the report
import type { StageContext, StageOutput } from '../../../activities/types';
import type { ArtifactRef } from '../../artifacts';
import { VBENCH_DIMENSIONS } from '../../core';
import { encodeGif, evaluateVideos, pairedTotalGain, samplePrompts, videoParts, type Video, type VideoParts } from '../../world';
import { latentSize } from '../autoencoder';
import { getManifest, getMatrix, getVideos, promptRecord, putMatrix, putVideos, type EvalPromptSet, type SampleCandidate, type SampleSet } from '../datasets';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator, type SampleRequest } from '../generator-serving';
import { ConfigError, finiteMetrics, input, paramsOf, prepare, runtimeOptions, throwIfCancelled } from './common';

/** Candidates per saved chunk: a crash loses at most one chunk of sampling. */
const CHUNK = 512;

interface SampleCheckpoint {
  chunks: { videos: ArtifactRef; latents: ArtifactRef }[];
}

export async function sampleStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const seed = p.seed();
  const round = p.int('round', ctx.request.round, 0);
  const promptCount = p.int('promptsPerRound', undefined, 1);
  const candidates = p.int('candidatesPerPrompt', undefined, 2);
  const batch = p.int('batch', 64, 1);
  const generatorRef = input(ctx, 'generator');
  const model = await loadGenerator(ctx.store, generatorRef);
  const started = performance.now();

  // Fresh prompts every round, from (seed, round) alone: a retried stage samples the same ones.
  const prompts = samplePrompts({ count: promptCount, seed: `${seed}/round-${round}/prompts`, round });
  const list: SampleCandidate[] = prompts.flatMap((pr, i) => Array.from({ length: candidates }, (_, c) => ({ id: `${pr.id}/${c}`, prompt: i, candidate: c, seed: `${seed}/round-${round}/${pr.id}/${c}` })));
  const requests: SampleRequest[] = list.map((c) => ({ prompt: prompts[c.prompt]!.text, seed: c.seed }));

  const previous = ctx.checkpoint as Partial<SampleCheckpoint> | undefined;
  const chunks: SampleCheckpoint['chunks'] = Array.isArray(previous?.chunks) ? [...previous.chunks] : [];
  const D = latentSize(model.config.autoencoder);
  const generator = await OnnxGenerator.create(model, await generatorOnnxBytes(ctx.store, generatorRef, model), runtimeOptions(p));
  try {
    for (let k = chunks.length; k * CHUNK < requests.length; k++) {
      throwIfCancelled(ctx);
      const part = requests.slice(k * CHUNK, (k + 1) * CHUNK);
      const out = await generator.sample(part, {
        batch,
        onBatch: (done) => ctx.progress(k * CHUNK + done, requests.length, { chunks }, `sampled ${k * CHUNK + done}/${requests.length}`),
      });
      const ids = list.slice(k * CHUNK, k * CHUNK + part.length).map((c) => c.id);
      chunks.push({
        videos: await putVideos(ctx.store, ctx.outputKey(`chunks/${k}.dipv`), out.videos, ids),
        latents: await putMatrix(ctx.store, ctx.outputKey(`chunks/${k}.latents`), out.latents, part.length, D),
      });
      await ctx.progress(k * CHUNK + part.length, requests.length, { chunks }, `chunk ${k} saved`);
    }
  } finally {
    await generator.release();
  }
  const seconds = (performance.now() - started) / 1000;

  // One file each for the whole round (chunks are interim).
  const videos: Video[] = [];
  const latents = new Float32Array(requests.length * D);
  let row = 0;
  for (const c of chunks) {
    videos.push(...(await getVideos(ctx.store, c.videos)).videos);
    const m = await getMatrix(ctx.store, c.latents);
    latents.set(m.data, row * D);
    row += m.rows;
  }
  const set: SampleSet = {
    format: 'dual-ipo/samples@1',
    round,
    generator: generatorRef.sha256,
    prompts: prompts.map(promptRecord),
    candidates: list,
    videos: await putVideos(ctx.store, ctx.outputKey('videos.dipv'), videos, list.map((c) => c.id)),
    latents: await putMatrix(ctx.store, ctx.outputKey('latents.bin'), latents, list.length, D),
  };
  const samples = await ctx.store.putJson(ctx.outputKey('samples.json'), set, { summary: { prompts: prompts.length, candidates: list.length } });
  return { outputs: { samples }, metrics: { prompts: prompts.length, videos: list.length, seconds, videosPerSecond: list.length / Math.max(1e-9, seconds) } };
}

/** Loads a round's samples: the manifest, its videos and latents. */
export async function loadSamples(ctx: StageContext, ref: ArtifactRef): Promise<{ set: SampleSet; videos: Video[]; latents: Float32Array; dim: number }> {
  const set = await getManifest<SampleSet>(ctx.store, ref, 'dual-ipo/samples@1', 'samples');
  const { videos, ids } = await getVideos(ctx.store, set.videos);
  if (ids.length !== set.candidates.length || ids.some((id, i) => id !== set.candidates[i]!.id)) throw new Error(`samples ${ref.uri}: the videos file does not list the manifest's candidates in order`);
  const m = await getMatrix(ctx.store, set.latents);
  if (m.rows !== set.candidates.length) throw new Error(`samples ${ref.uri}: ${m.rows} latents for ${set.candidates.length} candidates`);
  return { set, videos, latents: m.data, dim: m.cols };
}

/** How many evaluation videos get a GIF in the report. */
const GIFS = 8;

/**
 * Optional input `baseline`: another generator's scores.json on the same evaluation prompts (the
 * champion's, for the eval gate). Its per-video parts, or undefined when there is no baseline or it
 * predates them. Scores of other prompts are refused by name: pairing them would be wrong.
 */
async function baselineParts(ctx: StageContext, evalSet: EvalPromptSet, videos: number): Promise<VideoParts | undefined> {
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

export async function evaluateStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const generatorRef = input(ctx, 'generator');
  const model = await loadGenerator(ctx.store, generatorRef);
  const evalSet = await getManifest<EvalPromptSet>(ctx.store, input(ctx, 'evalPrompts'), 'dual-ipo/eval-prompts@1', 'evalPrompts');
  const requests = evalSet.prompts.flatMap((pr) => Array.from({ length: evalSet.samplesPerPrompt }, (_, k) => ({ prompt: pr.text, seed: `${evalSet.seed}/${pr.id}/${k}` })));
  const specs = evalSet.prompts.flatMap((pr) => Array.from({ length: evalSet.samplesPerPrompt }, () => pr.spec));
  const baseline = await baselineParts(ctx, evalSet, requests.length);
  const started = performance.now();
  const generator = await OnnxGenerator.create(model, await generatorOnnxBytes(ctx.store, generatorRef, model), runtimeOptions(p));
  let videos: Video[];
  try {
    ({ videos } = await generator.sample(requests, { batch: p.int('batch', 64, 1), onBatch: (done) => ctx.progress(done, requests.length, undefined, `sampled ${done}/${requests.length} evaluation videos`) }));
  } finally {
    await generator.release();
  }
  const sampling = (performance.now() - started) / 1000;
  throwIfCancelled(ctx);
  const result = evaluateVideos(videos.map((video, i) => ({ spec: specs[i]!, video })), { perVideo: true });
  const parts = videoParts(result);
  const gifs: Record<string, ArtifactRef> = {};
  for (let i = 0; i < Math.min(GIFS, videos.length); i++) {
    gifs[`gif${i}`] = await ctx.store.put(ctx.outputKey(`gifs/${i}.gif`), encodeGif(videos[i]!), { summary: { prompt: requests[i]!.prompt.slice(0, 120) } });
  }
  const scores = await ctx.store.putJson(ctx.outputKey('scores.json'), {
    format: 'dual-ipo/scores@1',
    generator: generatorRef.sha256,
    evalPrompts: input(ctx, 'evalPrompts').sha256,
    total: result.total,
    quality: result.quality,
    semantic: result.semantic,
    dimensions: result.dimensions,
    coverage: result.coverage,
    missing: result.missing,
    videos: requests.length,
    // Video i of every generator comes from the same prompt and seed: gates and audits pair them
    // (pairedTotalGain). Parts: each video's dimension values and weights, from which the Total of
    // any subset follows.
    videoTotals: result.videoTotals,
    videoParts: parts,
    gifs: Object.values(gifs),
    prompts: requests.slice(0, GIFS).map((r) => r.prompt),
  });
  const metrics: Record<string, number> = { total: result.total, quality: result.quality, semantic: result.semantic, videos: requests.length, samplingSeconds: sampling };
  for (const d of VBENCH_DIMENSIONS) metrics[`dim_${d}`] = result.dimensions[d];
  if (baseline) {
    // The eval gate's error bar: the champion's video i came from the same prompt and seed.
    const paired = pairedTotalGain(baseline, parts, (i) => Math.floor(i / evalSet.samplesPerPrompt));
    metrics.pairedGain = paired.gain;
    metrics.gainStandardError = paired.standardError;
  }
  return { outputs: { scores, ...gifs }, metrics: finiteMetrics(metrics) };
}
