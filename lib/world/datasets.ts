// The human data of the paper, made by the simulated panel: the seed set the critic is first
// trained on (pairwise and pointwise, 6,000 pairs by default, section 4.2) and the fixed, held-out
// human preference test set (1,000 videos by default, Table 1) that only ever validates.
//
// Videos come from a `videoSource`, so the same builders annotate clean renders with realistic
// defects (the default) or, later, the generator's own samples. Records stream out one by one (a
// 6,000-pair set of 32x32x16 videos is ~2.4 GB as float32), or can be collected with small sizes.
import { makePanel, panelPairwise, panelPointwise, type Annotator, type PanelOptions, type PanelPairwise, type PanelPointwise } from './annotators';
import { CORRUPTIONS, renderCorrupted, type Corruption } from './corruptions';
import { perceive } from './perception';
import { samplePrompts, type SampleOptions } from './prompts';
import { renderVideo } from './render';
import { Rng, type Seed } from './rng';
import type { Prompt, Video } from './spec';

/** One video for a prompt, and where it came from ("clean", "blur@0.42", "generator round 2"...). */
export interface VideoSample {
  video: Video;
  origin: string;
}

/** Makes the `variant`-th video of a prompt. Deterministic sources make deterministic datasets. */
export type VideoSource = (prompt: Prompt, variant: number) => VideoSample | Promise<VideoSample>;

export type SourceMix = Partial<Record<'clean' | Corruption, number>>;

/** Clean renders a third of the time, otherwise one realistic defect at a random severity. */
export const DEFAULT_SOURCE_MIX: Readonly<Record<'clean' | Corruption, number>> = {
  clean: 0.3,
  jitter: 0.1,
  flicker: 0.1,
  wrong_colour: 0.1,
  wrong_direction: 0.1,
  missing_object: 0.1,
  blur: 0.1,
  noise: 0.1,
};

export interface DefaultSourceOptions {
  seed?: Seed;
  mix?: SourceMix;
  frames?: number;
  size?: number;
  /** Severity range of defects (default 0.15-0.9). */
  severity?: { min: number; max: number };
}

/** The default source: ground-truth renders (each variant its own natural variation) and defective ones. */
export function defaultVideoSource(options: DefaultSourceOptions = {}): VideoSource {
  const seed = options.seed ?? 'video-source';
  const mix = { ...DEFAULT_SOURCE_MIX, ...(options.mix ?? {}) };
  for (const [k, w] of Object.entries(mix)) {
    if (k !== 'clean' && !(CORRUPTIONS as readonly string[]).includes(k)) throw new Error(`mix.${k}: unknown (known: clean, ${CORRUPTIONS.join(', ')})`);
    if (!(w >= 0)) throw new Error(`mix.${k}: weight must be >= 0, got ${w}`);
  }
  const severity = options.severity ?? { min: 0.15, max: 0.9 };
  return (prompt, variant) => {
    const rng = new Rng(seed, prompt.id, variant);
    const renderSeed = `${String(seed)}/${prompt.id}/${variant}`;
    const kind = rng.weighted(mix);
    const render = { seed: renderSeed, frames: options.frames, size: options.size };
    if (kind === 'clean') return { video: renderVideo(prompt.spec, render), origin: 'clean' };
    const s = rng.uniform(severity.min, severity.max);
    return { video: renderCorrupted(prompt.spec, kind, { ...render, severity: s }).video, origin: `${kind}@${s.toFixed(2)}` };
  };
}

// ---------------------------------------------------------------------------------------------

export type Split = 'seed' | 'heldout-test';

export interface AnnotatedVideo {
  /** Stable id: prompt id and variant. */
  id: string;
  origin: string;
  /** The pixels (left out when `keepVideos` is false). */
  video?: Video;
  pointwise: PanelPointwise;
}

export interface PairRecord {
  id: string;
  split: Split;
  prompt: Prompt;
  a: AnnotatedVideo;
  b: AnnotatedVideo;
  pairwise: PanelPairwise;
}

export interface BuildOptions {
  seed?: Seed;
  /** Where videos come from (default: defaultVideoSource with a seed derived from `seed`). */
  videoSource?: VideoSource;
  /** The panel, or how to make it (default 10 annotators). */
  panel?: Annotator[] | PanelOptions;
  /** Prompt targets (weights, difficulty schedule) for the prompts to annotate. */
  prompts?: Pick<SampleOptions, 'weights' | 'difficultySchedule' | 'round'>;
  /** Keep the pixels in the records (default true; turn off for big sets and keep `origin`). */
  keepVideos?: boolean;
  /** Called after each record (progress bars). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_SEED_PAIRS = 6000;
export const DEFAULT_TEST_VIDEOS = 1000;

function panelOf(panel: BuildOptions['panel'], seed: Seed): Annotator[] {
  return Array.isArray(panel) ? panel : makePanel({ seed: `${String(seed)}/panel`, ...(panel ?? {}) });
}

/** Pairs of two videos of one prompt, each judged pointwise and the pair pairwise by the whole panel. */
async function* annotatedPairs(split: Split, count: number, options: BuildOptions): AsyncGenerator<PairRecord> {
  if (!Number.isInteger(count) || count < 0) throw new Error(`${split}: size must be an integer >= 0, got ${count}`);
  const seed = options.seed ?? 'world';
  // The held-out set draws its prompts from its own stream, so no prompt id is shared with training.
  const promptSeed = `${String(seed)}/${split}/prompts`;
  const source = options.videoSource ?? defaultVideoSource({ seed: `${String(seed)}/${split}/videos` });
  const panel = panelOf(options.panel, seed);
  const keep = options.keepVideos ?? true;
  for (let i = 0; i < count; i++) {
    const [prompt] = samplePrompts({ count: 1, seed: promptSeed, startIndex: i, ...(options.prompts ?? {}) });
    const [sa, sb] = [await source(prompt!, 0), await source(prompt!, 1)];
    const va = { video: sa.video, perception: perceive(sa.video), key: `${prompt!.id}/0` };
    const vb = { video: sb.video, perception: perceive(sb.video), key: `${prompt!.id}/1` };
    const annotated = (v: typeof va, s: VideoSample): AnnotatedVideo => ({ id: v.key, origin: s.origin, ...(keep ? { video: v.video } : {}), pointwise: panelPointwise(panel, prompt!.spec, v) });
    yield { id: `${split}-${i}`, split, prompt: prompt!, a: annotated(va, sa), b: annotated(vb, sb), pairwise: panelPairwise(panel, prompt!.spec, va, vb) };
    options.onProgress?.(i + 1, count);
  }
}

/** Streams the human seed set: `pairs` (default 6,000) annotated pairs for training the critic. */
export function humanSeedPairs(options: BuildOptions & { pairs?: number } = {}): AsyncGenerator<PairRecord> {
  return annotatedPairs('seed', options.pairs ?? DEFAULT_SEED_PAIRS, options);
}

export interface HumanDataset {
  split: Split;
  records: PairRecord[];
  panel: Annotator[];
  stats: DatasetStats;
}

export interface DatasetStats {
  pairs: number;
  videos: number;
  /** Share of pairwise labels per dimension that are ties. */
  tieRate: number;
  /** Share of pointwise grades per value, over all dimensions. */
  grades: Record<string, number>;
  origins: Record<string, number>;
}

function stats(records: PairRecord[]): DatasetStats {
  let ties = 0;
  let labels = 0;
  const grades: Record<string, number> = { Good: 0, Normal: 0, Bad: 0 };
  const origins: Record<string, number> = {};
  for (const r of records) {
    for (const l of Object.values(r.pairwise.labels)) {
      labels++;
      if (l === 'tie') ties++;
    }
    for (const v of [r.a, r.b]) {
      for (const g of Object.values(v.pointwise.labels)) grades[g] = (grades[g] ?? 0) + 1;
      const kind = v.origin.split('@')[0]!;
      origins[kind] = (origins[kind] ?? 0) + 1;
    }
  }
  const totalGrades = Object.values(grades).reduce((a, b) => a + b, 0) || 1;
  return {
    pairs: records.length,
    videos: 2 * records.length,
    tieRate: labels ? ties / labels : 0,
    grades: Object.fromEntries(Object.entries(grades).map(([g, n]) => [g, n / totalGrades])),
    origins,
  };
}

async function collect(split: Split, generator: AsyncGenerator<PairRecord>, options: BuildOptions): Promise<HumanDataset> {
  const records: PairRecord[] = [];
  for await (const r of generator) records.push(r);
  return { split, records, panel: panelOf(options.panel, options.seed ?? 'world'), stats: stats(records) };
}

/** The human seed set (paper: 6,000 pairs), collected. For the full size, stream humanSeedPairs instead. */
export async function buildHumanSeedSet(options: BuildOptions & { pairs?: number } = {}): Promise<HumanDataset> {
  return collect('seed', humanSeedPairs(options), options);
}

/**
 * The fixed held-out human preference test set (paper Table 1: 1,000 videos, as 500 pairs with
 * pairwise and pointwise labels). It validates critics; never train on it (see assertTrainable).
 */
export async function buildHumanTestSet(options: BuildOptions & { videos?: number } = {}): Promise<HumanDataset> {
  const videos = options.videos ?? DEFAULT_TEST_VIDEOS;
  if (!Number.isInteger(videos) || videos < 2 || videos % 2) throw new Error(`videos must be an even integer >= 2 (pairs of videos), got ${videos}`);
  return collect('heldout-test', annotatedPairs('heldout-test', videos / 2, options), options);
}

/** Throws if any record comes from the held-out test set: call it where training data is assembled. */
export function assertTrainable(records: Iterable<Pick<PairRecord, 'split' | 'id'>>): void {
  for (const r of records) {
    if (r.split === 'heldout-test') throw new Error(`record ${r.id} belongs to the held-out human test set: it is for validation only, never for training`);
  }
}
