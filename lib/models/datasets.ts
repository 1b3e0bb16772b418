// The datasets the builtin stages pass between each other, as artifacts. Each dataset is a small
// JSON manifest (what the stage returns as its output) naming its bulk parts by ArtifactRef:
//
//   videos   the world's raw video format (.dipv, lib/world/video-io.ts), uint8, one id per video
//   latents  a float32 matrix in the checkpoint format (kind "latents"), one row per video
//
// so a manifest and its parts verify by sha256 like everything else in the store, and a tool that
// knows the world's video files can read the videos without this code.
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import { decodeVideos, encodeVideos, type Grade, type HumanDimension, type PairLabel, type PairRecord, type Prompt, type PromptSpec, type Split, type Video } from '../world';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';

export interface PromptRecord {
  id: string;
  text: string;
  spec: PromptSpec;
}

export const promptRecord = (p: Prompt | PromptRecord): PromptRecord => ({ id: p.id, text: p.text, spec: p.spec });

/** Real videos (the paper's D_real): prompts, the render seed of each video, the pixels and their latents. */
export interface RealVideoSet {
  format: 'dual-ipo/real-videos@1';
  prompts: PromptRecord[];
  renderSeeds: string[];
  videos: ArtifactRef;
  /** Normalised latents of the videos under the generator's (frozen) autoencoder. */
  latents: ArtifactRef;
  /** sha256 of the autoencoder weights the latents come from. */
  autoencoder: string;
}

/** Held-out evaluation prompts, each sampled with fixed seeds so every generator is scored on the same noise. */
export interface EvalPromptSet {
  format: 'dual-ipo/eval-prompts@1';
  prompts: PromptRecord[];
  samplesPerPrompt: number;
  seed: string;
}

export interface SampleCandidate {
  id: string;
  /** Index into `prompts`. */
  prompt: number;
  candidate: number;
  seed: string;
}

/** One round's generated candidates: prompts x candidates, with their latents (for training) and videos (for judging). */
export interface SampleSet {
  format: 'dual-ipo/samples@1';
  round: number;
  /** sha256 of the generator checkpoint that sampled them. */
  generator: string;
  prompts: PromptRecord[];
  candidates: SampleCandidate[];
  videos: ArtifactRef;
  latents: ArtifactRef;
}

export interface LabelItem {
  id: string;
  prompt: number;
  /** The pointwise score: the critic's expected grade (0..1) from the k-path vote (what ranks with ranking 'pointwise', and KTO's split), or with rankBy 'evaluator' the benchmark's per-video Total / 100, with 'human-evidence' the share of the prompt shown (0..1), with 'panel' the simulated panel's pairwise win rate over the prompt's other candidates (0..1), with 'random' a uniform draw per candidate. */
  score: number;
  /** With ranking 'pairwise': the win rate (0..1) of the critic's pairwise judgements over every pair of the prompt's candidates. */
  wins?: number;
  scores: Record<HumanDimension, number>;
  grades: Record<HumanDimension, Grade>;
  /** Vote share of the voted grade per dimension. */
  shares: Record<HumanDimension, number>;
  rationale: { text: string; [k: string]: unknown };
}

export interface LabelSet {
  format: 'dual-ipo/labels@1';
  samples: ArtifactRef;
  /** sha256 of the critic checkpoint that labelled them. */
  critic: string;
  paths: number;
  /** What `score` is (absent in older label sets: 'critic'). */
  rankBy?: RankBy;
  /** 'pairwise': the critic's ranking is each item's `wins` (absent: its pointwise `score`). */
  ranking?: 'pairwise';
  items: LabelItem[];
}

/**
 * What ranks a prompt's candidates into top-1 / bottom-1 pairs: the critic (the paper), or, as
 * diagnostics not in the paper, the evaluator's per-video Total (an oracle upper bound on any
 * critic's ranking: how much the generator's preference step can gain from perfect preferences),
 * the share of the prompt's weighted attributes the world's careful viewer sees (a critic that reads
 * the human panel's checks perfectly), or a random draw per candidate (the control: what the
 * preference step gains from pairs that carry no preference at all).
 */
export const RANK_BY = ['critic', 'evaluator', 'human-evidence', 'panel', 'random'] as const;
export type RankBy = (typeof RANK_BY)[number];

export interface PreferencePairRecord {
  prompt: string;
  promptId: string;
  chosen: string;
  rejected: string;
  chosenScore: number;
  rejectedScore: number;
  gap: number;
  /** The critic's implicit reward R(y_w|x) of "chosen beats rejected", its PCE, and whether it passed. */
  reward: number;
  pce: number;
  kept: boolean;
}

export interface PreferencePointRecord {
  id: string;
  prompt: string;
  promptId: string;
  score: number;
  desirable: boolean;
}

export interface PreferenceSet {
  format: 'dual-ipo/preferences@1';
  samples: ArtifactRef;
  labels: ArtifactRef;
  critic: string;
  beta: number;
  usePce: boolean;
  /** Q: the mean implicit reward of the pairs' chosen responses (averageRewardQ). */
  q: number;
  /** What ranked the candidates into pairs: the critic's 'pairwise' win rates or 'pointwise' score, or a diagnostic rankBy (absent in older sets). */
  rankedBy?: 'pairwise' | 'pointwise' | RankBy;
  /** All top-1 / bottom-1 pairs with their PCE; `kept` ones are the training data. */
  pairs: PreferencePairRecord[];
  /** Pointwise data for Diffusion-KTO (from the kept pairs' prompts' candidates). */
  points: PreferencePointRecord[];
  exports: Record<string, ArtifactRef>;
}

export interface HumanVideoRecord {
  id: string;
  origin: string;
  pointwise: Omit<PairRecord['a']['pointwise'], 'judgments'>;
}

export interface HumanPairRecord {
  id: string;
  split: Split;
  prompt: PromptRecord & { difficulty: Prompt['difficulty']; category: Prompt['category'] };
  a: HumanVideoRecord;
  b: HumanVideoRecord;
  pairwise: { labels: Record<HumanDimension, PairLabel>; agreement: Record<HumanDimension, number> };
}

/** An annotated human set (seed or held-out test): labels and rationales, videos as one .dipv part. */
export interface HumanSet {
  format: 'dual-ipo/human-set@1';
  split: Split;
  records: HumanPairRecord[];
  /** Video ids are `<record id>/a` and `<record id>/b`. */
  videos: ArtifactRef;
  stats: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Bulk parts

export async function putVideos(store: ArtifactStore, key: string, videos: readonly Video[], ids: readonly string[]): Promise<ArtifactRef> {
  return store.put(key, encodeVideos([...videos], { dtype: 'uint8', ids: [...ids] }), { summary: { videos: videos.length } });
}

export async function getVideos(store: ArtifactStore, ref: ArtifactRef): Promise<{ videos: Video[]; ids: string[] }> {
  const bytes = await store.get(ref);
  try {
    const { videos, header } = decodeVideos(bytes);
    return { videos, ids: header.ids ?? videos.map((_, i) => String(i)) };
  } catch (err) {
    throw new Error(`videos ${ref.uri}: ${(err as Error).message}`);
  }
}

export async function putMatrix(store: ArtifactStore, key: string, data: Float32Array, rows: number, cols: number, meta: Record<string, unknown> = {}): Promise<ArtifactRef> {
  if (data.length !== rows * cols) throw new Error(`putMatrix ${key}: ${data.length} values is not ${rows} x ${cols}`);
  return store.put(key, encodeCheckpoint({ kind: 'latents', config: { rows, cols }, meta, params: { latents: { shape: [rows, cols], data } } }), { summary: { rows, cols } });
}

export async function getMatrix(store: ArtifactStore, ref: ArtifactRef): Promise<{ data: Float32Array; rows: number; cols: number }> {
  const ckpt = decodeCheckpoint<{ rows: number; cols: number }>(await store.get(ref), ref.uri, { kind: 'latents', shapesFor: (c) => ({ latents: [c.rows, c.cols] }) });
  return { data: ckpt.params.latents!.data, rows: ckpt.config.rows, cols: ckpt.config.cols };
}

/** A manifest, checked for its format tag (a wrong input wired to a stage fails here, by name). */
export async function getManifest<T extends { format: string }>(store: ArtifactStore, ref: ArtifactRef, format: T['format'], input: string): Promise<T> {
  const value = await store.getJson<T>(ref);
  if (!value || value.format !== format) throw Object.assign(new Error(`input "${input}" (${ref.uri}) is not a ${format} manifest (format: ${JSON.stringify(value?.format)})`), { nonRetryable: true });
  return value;
}

/** Back to the world's PairRecord (what the critic's data builders read), pixels attached. */
export function toPairRecords(set: HumanSet, videos: { videos: Video[]; ids: string[] }): PairRecord[] {
  const byId = new Map(videos.ids.map((id, i) => [id, videos.videos[i]!]));
  return set.records.map((r) => {
    const video = (side: 'a' | 'b') => {
      const v = byId.get(`${r.id}/${side}`);
      if (!v) throw new Error(`human set ${set.split}: no pixels for ${r.id}/${side}`);
      return v;
    };
    return {
      id: r.id,
      split: r.split,
      prompt: { ...r.prompt },
      a: { id: r.a.id, origin: r.a.origin, video: video('a'), pointwise: { ...r.a.pointwise, judgments: [] } },
      b: { id: r.b.id, origin: r.b.origin, video: video('b'), pointwise: { ...r.b.pointwise, judgments: [] } },
      pairwise: { ...r.pairwise, rationale: undefined as never, judgments: [] },
    } as PairRecord;
  });
}

export function fromPairRecord(r: PairRecord): HumanPairRecord {
  const side = (v: PairRecord['a']): HumanVideoRecord => {
    const { judgments: _judgments, ...pointwise } = v.pointwise;
    return { id: v.id, origin: v.origin, pointwise };
  };
  return {
    id: r.id,
    split: r.split,
    prompt: { id: r.prompt.id, text: r.prompt.text, spec: r.prompt.spec, difficulty: r.prompt.difficulty, category: r.prompt.category },
    a: side(r.a),
    b: side(r.b),
    pairwise: { labels: r.pairwise.labels, agreement: r.pairwise.agreement },
  };
}
