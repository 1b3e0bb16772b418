// The critic's training and validation data: annotated pairs (lib/world's PairRecord) reduced to
// what the critic reads and learns from. Videos become their frozen pixel statistics right away
// (2.8 KB instead of 196 KB per 16x32x32 video), so a 6,000-pair seed set can be streamed through
// and kept in memory; labels become class indices.
import { assertTrainable, type PairRecord, type Split } from '../../world';
import { FEATURE_VERSION, featureSize, videoFeatures } from './features';
import { DIMENSIONS, GRADE_CLASSES, PAIR_CLASSES } from './model';
import { rationaleTarget, type RationaleTarget } from './rationale';

export interface VideoExample {
  /** What the frozen tower reads (videoFeatures at the critic's feature version). */
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

function videoExample(record: PairRecord, side: 'a' | 'b', featureVersion: number, given?: Float32Array): VideoExample {
  const v = record[side];
  const grades = Int8Array.from(DIMENSIONS, (d) => GRADE_CLASSES.indexOf(v.pointwise.labels[d]));
  if (given && given.length !== featureSize(featureVersion)) throw new Error(`criticExample: record ${record.id} video ${side.toUpperCase()}: ${given.length} features given, feature version ${featureVersion} has ${featureSize(featureVersion)}`);
  if (given) return { features: given, grades, rationale: rationaleTarget(record.prompt.spec, v.pointwise.rationale) };
  if (!v.video) throw new Error(`criticExamples: record ${record.id} has no pixels for video ${side.toUpperCase()} (build it with keepVideos: true)`);
  return { features: videoFeatures(v.video, featureVersion), grades, rationale: rationaleTarget(record.prompt.spec, v.pointwise.rationale) };
}

/**
 * One annotated pair as critic data (pixels -> features of `featureVersion`, labels -> indices).
 * `features`: the two videos' features when already known (a cache), instead of the pixels'.
 */
export function criticExample(record: PairRecord, featureVersion: number = FEATURE_VERSION, features?: { a: Float32Array; b: Float32Array }): CriticExample {
  return {
    id: record.id,
    split: record.split,
    prompt: record.prompt.text,
    a: videoExample(record, 'a', featureVersion, features?.a),
    b: videoExample(record, 'b', featureVersion, features?.b),
    pair: Int8Array.from(DIMENSIONS, (d) => PAIR_CLASSES.indexOf(record.pairwise.labels[d])),
  };
}

/** Items between progress reports while features are computed. */
export const FEATURE_CHUNK = 64;

/**
 * Called after each item whose features were computed: every FEATURE_CHUNK items it reports and
 * gives the event loop a turn. The semantic tower perceives every frame (10,000 human seed videos
 * take minutes in one synchronous loop), and an activity's heartbeats go out only on such a turn.
 */
export async function featurePace(done: number, report?: (done: number) => void | Promise<void>): Promise<void> {
  if (done % FEATURE_CHUNK !== 0) return;
  await report?.(done);
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Critic data from annotated pairs, streamed: pass humanSeedPairs(...) and the pixels of each
 * record are dropped as soon as its features are computed (at `featureVersion`, the critic's
 * config.featureVersion; default the pixel statistics alone). `onProgress` hears every FEATURE_CHUNK pairs.
 */
export async function criticExamples(records: Iterable<PairRecord> | AsyncIterable<PairRecord>, opts: { onProgress?: (done: number) => void | Promise<void>; featureVersion?: number } = {}): Promise<CriticExample[]> {
  const out: CriticExample[] = [];
  for await (const r of records) {
    out.push(criticExample(r, opts.featureVersion));
    await featurePace(out.length, opts.onProgress);
  }
  return out;
}

/** Throws if any example comes from the held-out human test set (see lib/world assertTrainable). */
export function assertTrainableExamples(examples: readonly CriticExample[]): void {
  assertTrainable(examples);
}
