// What the critic's frozen tower reads in a stored set of videos, cached in the store: the tower is
// frozen, so the features depend only on the stored videos (the sha256 of the manifest that names
// them) and the feature version. Without the cache every label, relabel, pceFilter, criticTrain and
// validate recomputes them: 2,048 candidates per round and 10,000 human seed videos in the
// quickstart, with the detector tower about 5 ms each. The videos must be the stored (uint8) ones, as
// getVideos gives them, so a cached matrix never depends on how it was first filled.
import type { ArtifactRef, ArtifactStore } from '../../artifacts';
import type { StageContext } from '../contract';
import { criticExample, featurePace, featureSize, videoFeatures, type CriticExample } from '../../models/critic';
import { getManifest, getMatrix, getVideos, putMatrix, toPairRecords, type HumanSet } from '../../models/datasets';
import { PERCEPTION_VERSION, type PairRecord, type Video } from '../../world';

// Version 1 reads pixels only; later versions add perception's readings, which change with it.
export const criticFeaturesCacheKey = (of: ArtifactRef, featureVersion: number) => `cache/critic-features/${of.sha256}-v${featureVersion}${featureVersion >= 2 ? `-p${PERCEPTION_VERSION}` : ''}.mat`;

export type FeatureProgress = (done: number, total: number) => Promise<void>;

/** Heartbeats a stage's features computation (what it is in the message; the checkpoint is kept). */
export const featureProgress = (progress: StageContext['progress'], what: string): FeatureProgress => (done, total) => progress(done, total, undefined, `critic features of ${what}: ${done}/${total} videos`);

/**
 * The features of the `count` videos stored under manifest `of`, in order. `videos` is called only
 * when they are not cached yet (or the entry is damaged or mismatched: it is recomputed and replaced).
 */
export async function cachedVideoFeatures(store: ArtifactStore, of: ArtifactRef, count: number, videos: () => readonly Video[], featureVersion: number, progress?: FeatureProgress): Promise<Float32Array[]> {
  const cols = featureSize(featureVersion);
  const key = criticFeaturesCacheKey(of, featureVersion);
  const cached = await store.head(key);
  const m = cached ? await getMatrix(store, cached).catch(() => undefined) : undefined;
  if (m && m.rows === count && m.cols === cols) return Array.from({ length: count }, (_, i) => m.data.slice(i * cols, (i + 1) * cols));
  const rows: Float32Array[] = [];
  for (const v of videos()) {
    rows.push(videoFeatures(v, featureVersion));
    await featurePace(rows.length, progress && ((done) => progress(done, count)));
  }
  if (rows.length !== count) throw new Error(`critic features of ${of.uri}: ${rows.length} videos, expected ${count}`);
  const data = new Float32Array(count * cols);
  rows.forEach((row, i) => data.set(row, i * cols));
  await putMatrix(store, key, data, count, cols, { of: of.uri, featureVersion });
  return rows;
}

/** A human set (`set`, as pair records with the stored pixels) as critic examples; features two rows per record (A, B). */
export async function cachedCriticExamples(store: ArtifactStore, set: ArtifactRef, records: readonly PairRecord[], featureVersion: number, progress?: FeatureProgress): Promise<CriticExample[]> {
  const pixels = () =>
    records.flatMap((r) =>
      (['a', 'b'] as const).map((side) => {
        const video = r[side].video;
        if (!video) throw new Error(`criticExamples: record ${r.id} has no pixels for video ${side.toUpperCase()} (build it with keepVideos: true)`);
        return video;
      }),
    );
  const features = await cachedVideoFeatures(store, set, 2 * records.length, pixels, featureVersion, progress);
  return records.map((r, i) => criticExample(r, featureVersion, { a: features[2 * i]!, b: features[2 * i + 1]! }));
}

/** The held-out or seed human set as critic examples (frozen features of its videos, cached per feature version). */
export async function humanExamples(ctx: StageContext, ref: ArtifactRef, name: string, featureVersion: number) {
  const set = await getManifest<HumanSet>(ctx.store, ref, 'dual-ipo/human-set@1', name);
  return cachedCriticExamples(ctx.store, ref, toPairRecords(set, await getVideos(ctx.store, set.videos)), featureVersion, featureProgress(ctx.progress, name));
}
