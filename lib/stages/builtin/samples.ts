// A round's samples as the stages read them: one sample set, or the manifest of a sharded sample
// stage's sets (one per shard), optionally only the prompts [from, to) of a label shard. Nothing
// here needs one file holding the whole round: a shard manifest is read set by set.
import type { StageContext } from '../contract';
import type { ArtifactRef } from '../../artifacts';
import type { Video } from '../../world';
import { getManifest, getMatrix, getVideos, type SampleSet } from '../../models/datasets';
import { cachedVideoFeatures, featureProgress } from './critic-features';

/** What a sharded sample stage's merge writes: each shard's own sample set, in prompt order. */
export interface SampleShardSet {
  format: 'dual-ipo/sample-shards@1';
  round: number;
  generator: string;
  prompts: number;
  candidates: number;
  shards: { from: number; to: number; candidates: number; samples: ArtifactRef }[];
}

export interface LoadedSamples {
  /** The prompts and candidates loaded (candidates' `prompt` indexes this `prompts`). */
  set: Pick<SampleSet, 'round' | 'generator' | 'prompts' | 'candidates'>;
  videos: Video[];
  latents: Float32Array;
  dim: number;
  /** Round-wide index of the first prompt and of the first candidate loaded. */
  promptOffset: number;
  candidateOffset: number;
  /** The critic tower's features of the loaded videos, cached per stored sample set. */
  features(featureVersion: number): Promise<Float32Array[]>;
  /** The videos file holding loaded video `row` (exports point at it). */
  videosUri(row: number): string;
}

interface Part {
  ref: ArtifactRef;
  set: SampleSet;
  videos: Video[];
  latents: Float32Array;
  dim: number;
  /** Prompt and candidate offsets of this set in the round. */
  promptBase: number;
  candidateBase: number;
}

async function loadSet(ctx: Pick<StageContext, 'store'>, ref: ArtifactRef, promptBase: number, candidateBase: number): Promise<Part> {
  const set = await getManifest<SampleSet>(ctx.store, ref, 'dual-ipo/samples@1', 'samples');
  const { videos, ids } = await getVideos(ctx.store, set.videos);
  if (ids.length !== set.candidates.length || ids.some((id, i) => id !== set.candidates[i]!.id)) throw new Error(`samples ${ref.uri}: the videos file does not list the manifest's candidates in order`);
  const m = await getMatrix(ctx.store, set.latents);
  if (m.rows !== set.candidates.length) throw new Error(`samples ${ref.uri}: ${m.rows} latents for ${set.candidates.length} candidates`);
  return { ref, set, videos, latents: m.data, dim: m.cols, promptBase, candidateBase };
}

/**
 * Loads a round's samples (a sample set or a shard manifest), all of them or only prompts
 * [range.from, range.to) (round-wide prompt indices).
 */
export async function loadSamples(ctx: Pick<StageContext, 'store'> & Partial<Pick<StageContext, 'progress'>>, ref: ArtifactRef, range?: { from: number; to: number }): Promise<LoadedSamples> {
  const head = await ctx.store.getJson<{ format?: string }>(ref);
  const parts: Part[] = [];
  if (head?.format === 'dual-ipo/sample-shards@1') {
    const manifest = head as SampleShardSet;
    let candidateBase = 0;
    for (const s of manifest.shards) {
      if (!range || (s.to > range.from && s.from < range.to)) parts.push(await loadSet(ctx, s.samples, s.from, candidateBase));
      candidateBase += s.candidates;
    }
  } else {
    parts.push(await loadSet(ctx, ref, 0, 0));
  }
  if (!parts.length) throw new Error(`samples ${ref.uri}: no shard holds prompts [${range!.from}, ${range!.to})`);
  const dim = parts[0]!.dim;
  const from = range?.from ?? 0;
  const to = range?.to ?? Number.POSITIVE_INFINITY;
  const prompts: SampleSet['prompts'] = [];
  const candidates: SampleSet['candidates'] = [];
  const videos: Video[] = [];
  const rows: { part: number; row: number }[] = [];
  parts.forEach((part, k) => {
    part.set.prompts.forEach((pr, i) => {
      const global = part.promptBase + i;
      if (global >= from && global < to) prompts.push(pr);
    });
    part.set.candidates.forEach((c, i) => {
      const global = part.promptBase + c.prompt;
      if (global < from || global >= to) return;
      candidates.push({ ...c, prompt: global - from });
      videos.push(part.videos[i]!);
      rows.push({ part: k, row: i });
    });
  });
  const latents = new Float32Array(rows.length * dim);
  rows.forEach(({ part, row }, i) => latents.set(parts[part]!.latents.subarray(row * dim, (row + 1) * dim), i * dim));
  const first = rows[0];
  return {
    set: { round: parts[0]!.set.round, generator: parts[0]!.set.generator, prompts, candidates },
    videos,
    latents,
    dim,
    promptOffset: from,
    candidateOffset: first ? parts[first.part]!.candidateBase + first.row : 0,
    async features(featureVersion) {
      const perPart = await Promise.all(parts.map((part) => cachedVideoFeatures(ctx.store, part.ref, part.videos.length, () => part.videos, featureVersion, ctx.progress ? featureProgress(ctx.progress, 'the samples') : undefined)));
      return rows.map(({ part, row }) => perPart[part]![row]!);
    },
    videosUri: (row) => parts[rows[row]!.part]!.set.videos.uri,
  };
}
