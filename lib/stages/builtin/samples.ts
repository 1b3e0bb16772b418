// A round's samples as the stages read them: the manifest, its videos and their latents.
import type { StageContext } from '../contract';
import type { ArtifactRef } from '../../artifacts';
import type { Video } from '../../world';
import { getManifest, getMatrix, getVideos, type SampleSet } from '../../models/datasets';

/** Loads a round's samples: the manifest, its videos and latents. */
export async function loadSamples(ctx: StageContext, ref: ArtifactRef): Promise<{ set: SampleSet; videos: Video[]; latents: Float32Array; dim: number }> {
  const set = await getManifest<SampleSet>(ctx.store, ref, 'dual-ipo/samples@1', 'samples');
  const { videos, ids } = await getVideos(ctx.store, set.videos);
  if (ids.length !== set.candidates.length || ids.some((id, i) => id !== set.candidates[i]!.id)) throw new Error(`samples ${ref.uri}: the videos file does not list the manifest's candidates in order`);
  const m = await getMatrix(ctx.store, set.latents);
  if (m.rows !== set.candidates.length) throw new Error(`samples ${ref.uri}: ${m.rows} latents for ${set.candidates.length} candidates`);
  return { set, videos, latents: m.data, dim: m.cols };
}
