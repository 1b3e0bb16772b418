// The human seed and test sets as critic examples, with their features cached in the store: the
// critic's tower is frozen, so a set's features depend only on its stored videos (the set's sha256)
// and the feature version, and every criticTrain and validate would otherwise recompute them (10,000
// videos in the quickstart's seed set; with the detector tower about a minute). `records` must carry
// the stored (uint8) pixels, as toPairRecords gives them, so a cached matrix never depends on how it
// was first filled.
import type { ArtifactRef, ArtifactStore } from '../../artifacts';
import { criticExample, featureSize, type CriticExample } from '../critic';
import { getMatrix, putMatrix } from '../datasets';
import type { PairRecord } from '../../world';

const cacheKey = (set: ArtifactRef, featureVersion: number) => `cache/critic-features/${set.sha256}-v${featureVersion}.mat`;

/** `records` are the set `set` as pair records (pixels attached); features two rows per record (A, B). */
export async function cachedCriticExamples(store: ArtifactStore, set: ArtifactRef, records: readonly PairRecord[], featureVersion: number): Promise<CriticExample[]> {
  const cols = featureSize(featureVersion);
  const key = cacheKey(set, featureVersion);
  const cached = await store.head(key);
  if (cached) {
    // A damaged or mismatched entry is recomputed and replaced, never trusted.
    const m = await getMatrix(store, cached).catch(() => undefined);
    if (m && m.rows === 2 * records.length && m.cols === cols) {
      const row = (i: number) => m.data.slice(i * cols, (i + 1) * cols);
      return records.map((r, i) => criticExample(r, featureVersion, { a: row(2 * i), b: row(2 * i + 1) }));
    }
  }
  const examples = records.map((r) => criticExample(r, featureVersion));
  const data = new Float32Array(2 * examples.length * cols);
  examples.forEach((e, i) => {
    data.set(e.a.features, 2 * i * cols);
    data.set(e.b.features, (2 * i + 1) * cols);
  });
  await putMatrix(store, key, data, 2 * examples.length, cols, { set: set.uri, featureVersion });
  return examples;
}
