// The critic's training and validation data: annotated pairs (lib/world's PairRecord) reduced to
// what the critic reads and learns from. Videos become their frozen pixel statistics right away
// (2.8 KB instead of 196 KB per 16x32x32 video), so a 6,000-pair seed set can be streamed through
// and kept in memory; labels become class indices.
import { assertTrainable, type PairRecord, type Split } from '../../world';
import { videoFeatures } from './features';
import { DIMENSIONS, GRADE_CLASSES, PAIR_CLASSES } from './model';
import { rationaleTarget, type RationaleTarget } from './rationale';

export interface VideoExample {
  /** The frozen pixel statistics (videoFeatures). */
  features: Float32Array;
  /** Panel grade per dimension (index into GRADE_CLASSES), -1 = none. */
  grades: Int8Array;
  /** Rationale targets per attribute group, -1 = unknown. */
  rationale: RationaleTarget;
}

export interface CriticExample {
  id: string;
  split: Split;
  prompt: string;
  a: VideoExample;
  b: VideoExample;
  /** Panel pairwise label per dimension (index into PAIR_CLASSES: A, B, tie), -1 = none. */
  pair: Int8Array;
}

function videoExample(record: PairRecord, side: 'a' | 'b'): VideoExample {
  const v = record[side];
  if (!v.video) throw new Error(`criticExamples: record ${record.id} has no pixels for video ${side.toUpperCase()} (build it with keepVideos: true)`);
  const grades = Int8Array.from(DIMENSIONS, (d) => GRADE_CLASSES.indexOf(v.pointwise.labels[d]));
  return { features: videoFeatures(v.video), grades, rationale: rationaleTarget(record.prompt.spec, v.pointwise.rationale) };
}

/** One annotated pair as critic data (pixels -> features, labels -> indices). */
export function criticExample(record: PairRecord): CriticExample {
  return {
    id: record.id,
    split: record.split,
    prompt: record.prompt.text,
    a: videoExample(record, 'a'),
    b: videoExample(record, 'b'),
    pair: Int8Array.from(DIMENSIONS, (d) => PAIR_CLASSES.indexOf(record.pairwise.labels[d])),
  };
}

/**
 * Critic data from annotated pairs, streamed: pass humanSeedPairs(...) and the pixels of each
 * record are dropped as soon as its features are computed.
 */
export async function criticExamples(records: Iterable<PairRecord> | AsyncIterable<PairRecord>, opts: { onProgress?: (done: number) => void } = {}): Promise<CriticExample[]> {
  const out: CriticExample[] = [];
  for await (const r of records) {
    out.push(criticExample(r));
    opts.onProgress?.(out.length);
  }
  return out;
}

/** Throws if any example comes from the held-out human test set (see lib/world assertTrainable). */
export function assertTrainableExamples(examples: readonly CriticExample[]): void {
  assertTrainable(examples);
}
