// sample: a round's fresh prompts (from seed and round) x candidates, each with its own noise seed,
// from the champion generator on onnxruntime-node, saved in chunks so a crash loses at most one.
import type { StageContext, StageOutput } from '../contract';
import type { ArtifactRef } from '../../artifacts';
import { samplePrompts, type Video } from '../../world';
import { latentSize } from '../../models/autoencoder';
import { getMatrix, getVideos, promptRecord, putMatrix, putVideos, type SampleCandidate, type SampleSet } from '../../models/datasets';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator, type SampleRequest } from '../../models/generator-serving';
import { readParams } from '../params';
import { input, prepare, runtimeOptions, throwIfCancelled } from './common';

/** Candidates per saved chunk: a crash loses at most one chunk of sampling. */
const CHUNK = 512;

interface SampleCheckpoint {
  chunks: { videos: ArtifactRef; latents: ArtifactRef }[];
}

export async function sampleStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('sample', ctx);
  const seed = String(p.seed);
  const round = p.round ?? ctx.request.round;
  const promptCount = p.promptsPerRound;
  const candidates = p.candidatesPerPrompt;
  const batch = p.batch;
  const generatorRef = input(ctx, 'generator');
  const model = await loadGenerator(ctx.store, generatorRef);
  const started = performance.now();

  // Fresh prompts every round, from (seed, round) alone: a retried stage samples the same ones. A
  // shard samples its slice of that list (prompt k depends on k alone), and each candidate's noise
  // seed depends on its prompt's id, so shards sample exactly what the whole stage would.
  const shard = ctx.request.shard;
  const from = shard ? Math.min(shard.from, promptCount) : 0;
  const to = shard ? Math.min(shard.to, promptCount) : promptCount;
  const prompts = samplePrompts({ count: to - from, seed: `${seed}/round-${round}/prompts`, round, startIndex: from });
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
