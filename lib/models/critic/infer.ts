// Judging with the critic: stochastic multi-path inference and self-consistency (paper section 3.2).
// Every video (or pair) is run along k paths; each path samples its own rationale and then its
// answers conditioned on it, and the answers are aggregated per dimension by selfConsistencyVote
// (majority, share, margin). Noise is drawn in JS from (seed, call, item index, path), so a result
// depends only on the seed and the item's position, never on batching, and the tfjs and ONNX
// executors take the same paths.
import { pairwiseAgreement, pointwiseAgreement, selfConsistencyVote, type Agreement, type PairwiseLabel, type Vote } from '../../core';
import type { Grade, HumanDimension, Video } from '../../world';
import { Random } from '../nn/random';
import { tokenize } from '../text';
import type { CriticExample } from './data';
import { videoFeatures } from './features';
import { DIMENSIONS, GRADE_CLASSES, GRADE_VALUE, PAIR_CLASSES, type CriticConfig, type CriticModel } from './model';
import { CriticTf, type CriticExecutor, type CriticFeed, type CriticOutputs } from './onnx';
import { RATIONALE_SHAPE, RATIONALE_SIZE, rationaleClasses, summarizeRationale, type RationaleSummary } from './rationale';
import type { PseudoLabel } from './train';

const D = DIMENSIONS.length;
const G = RATIONALE_SHAPE.groups;
const C = RATIONALE_SHAPE.classes;

/** A video as the critic reads it: the prompt and either the pixels or their (cached) features. */
export interface CriticInput {
  prompt: string;
  video?: Video;
  features?: Float32Array;
}

export interface InferenceOptions {
  /** Reasoning paths per item (default 8, as config critic.paths). */
  paths?: number;
  seed?: number | string;
  /**
   * Sampling temperature of rationales and answers (default 0.5: measured best of 0, 0.5 and 1 with
   * 8 paths; 0 = greedy, every path alike).
   */
  temperature?: number;
  /** Rows (videos x paths) per executor call (default 512). */
  batch?: number;
}

export interface JudgeOptions extends InferenceOptions {
  /**
   * Index of the first item in the whole set (default 0): each item's sampling noise depends on its
   * index, so judging a slice with its offset gives the same verdicts as judging the whole set.
   */
  indexOffset?: number;
}

function featuresOf(x: Float32Array | Video | CriticInput, what: string, config: CriticConfig): Float32Array {
  const { featureVersion, features: size } = config;
  let f: Float32Array | undefined;
  if (x instanceof Float32Array) f = x;
  else if ('data' in x) f = videoFeatures(x, featureVersion);
  else if (x.features) f = x.features;
  else if (x.video) f = videoFeatures(x.video, featureVersion);
  if (!f) throw new Error(`critic: ${what} has neither pixels nor features`);
  if (f.length !== size) throw new Error(`critic: ${what} has ${f.length} features, this critic reads ${size} (feature version ${featureVersion})`);
  return f;
}

const executorOf = (critic: CriticModel | CriticExecutor): { exec: CriticExecutor; owned: boolean } =>
  'run' in critic ? { exec: critic, owned: false } : { exec: new CriticTf(critic), owned: true };

function checkPaths(opts: InferenceOptions): { paths: number; temperature: number; batch: number; seed: number | string } {
  const paths = opts.paths ?? 8;
  const temperature = opts.temperature ?? 0.5;
  if (!Number.isInteger(paths) || paths < 1) throw new Error(`critic: paths must be an integer >= 1, got ${paths}`);
  if (!(temperature >= 0)) throw new Error(`critic: temperature must be >= 0, got ${temperature}`);
  return { paths, temperature, batch: opts.batch ?? 512, seed: opts.seed ?? 0 };
}

/** Uniform draws into `out` at `offset` (the graph makes them Gumbel noise x temperature). */
function uniforms(rng: Random, out: Float32Array, offset: number, n: number): void {
  for (let i = 0; i < n; i++) out[offset + i] = rng.next();
}

/** The index of the hot class in a one-hot row (first one wins an exact tie). */
function hot(values: Float32Array, offset: number, n: number): number {
  for (let k = 0; k < n; k++) if (values[offset + k]! > 0.5) return k;
  return 0;
}

/** Assembles a feed: `videos` rows (features, prompt, rng per row) and pairs of row indices. */
function makeFeed(
  exec: CriticExecutor,
  rows: { features: Float32Array; prompt: string; rng: Random }[],
  pairs: { a: number; b: number; rng: Random }[],
  temperature: number,
): CriticFeed {
  const c = exec.config;
  const features = new Float32Array(rows.length * c.features);
  const rationaleUniform = new Float32Array(rows.length * G * C);
  const verdictUniform = new Float32Array(rows.length * D * 3);
  rows.forEach((r, i) => {
    if (r.features.length !== c.features) throw new Error(`critic: a feature vector has ${r.features.length} values, the config expects ${c.features}`);
    features.set(r.features, i * c.features);
    uniforms(r.rng, rationaleUniform, i * G * C, G * C);
    uniforms(r.rng, verdictUniform, i * D * 3, D * 3);
  });
  // An empty pair list still feeds one dummy comparison (row 0 with itself), ignored by the caller.
  const list = pairs.length ? pairs : [{ a: 0, b: 0, rng: new Random('critic-dummy-pair') }];
  const pairUniform = new Float32Array(list.length * D * 3);
  list.forEach((p, i) => uniforms(p.rng, pairUniform, i * D * 3, D * 3));
  return {
    rows: rows.length,
    pairs: list.length,
    features,
    tokens: tokenize(rows.map((r) => r.prompt), c.text),
    rationaleUniform,
    verdictUniform,
    temperature,
    pairA: Int32Array.from(list, (p) => p.a),
    pairB: Int32Array.from(list, (p) => p.b),
    pairUniform,
  };
}

type PerDimension<T> = Record<HumanDimension, T>;
const perDimension = <T>(f: (d: number) => T) => Object.fromEntries(DIMENSIONS.map((name, d) => [name, f(d)])) as PerDimension<T>;

export interface VideoJudgment {
  /** The per-video score: the expected grade (Bad 0, Normal 0.5, Good 1), mean over dimensions and paths. */
  score: number;
  /** Expected grade per dimension (mean over paths). */
  scores: PerDimension<number>;
  /** The voted grade per dimension. */
  grades: PerDimension<Grade>;
  votes: PerDimension<Vote>;
  /** The rationale of the first path that agrees most with the voted grades. */
  rationale: RationaleSummary;
}

/** Per path: one-hot grades and the rationale row. */
function gradeAnswers(out: CriticOutputs, row: number): Grade[] {
  return DIMENSIONS.map((_, d) => GRADE_CLASSES[hot(out.verdict, (row * D + d) * 3, 3)]!);
}

/**
 * Pointwise judgments of videos (section 3.2): k paths each, voted per dimension, and the scalar
 * score used to rank a prompt's candidates (top-1 vs bottom-1 pairs, section 4.1).
 */
export async function judgeVideos(critic: CriticModel | CriticExecutor, items: readonly CriticInput[], opts: JudgeOptions = {}): Promise<VideoJudgment[]> {
  const { paths, temperature, batch, seed } = checkPaths(opts);
  const offset = opts.indexOffset ?? 0;
  const { exec, owned } = executorOf(critic);
  const out: VideoJudgment[] = [];
  try {
    const perCall = Math.max(1, Math.floor(batch / paths));
    for (let start = 0; start < items.length; start += perCall) {
      const chunk = items.slice(start, start + perCall);
      const rows = chunk.flatMap((item, j) => {
        const features = featuresOf(item, `item ${start + j}`, exec.config);
        return Array.from({ length: paths }, (_, p) => ({ features, prompt: item.prompt, rng: new Random(seed, 'critic-judge', offset + start + j, p) }));
      });
      const result = await exec.run(makeFeed(exec, rows, [], temperature));
      chunk.forEach((_, j) => {
        const answers = Array.from({ length: paths }, (_, p) => gradeAnswers(result, j * paths + p));
        const votes = perDimension((d) => selfConsistencyVote(answers.map((a) => a[d]!)));
        const scores = perDimension((d) => {
          let s = 0;
          for (let p = 0; p < paths; p++) {
            const o = ((j * paths + p) * D + d) * 3;
            for (let k = 0; k < 3; k++) s += Math.exp(result.verdictLogp[o + k]!) * GRADE_VALUE[k]!;
          }
          return s / paths;
        });
        const agreeing = answers.map((a) => a.filter((g, d) => g === votes[DIMENSIONS[d]!].answer).length);
        const best = agreeing.indexOf(Math.max(...agreeing));
        out.push({
          score: DIMENSIONS.reduce((s, name) => s + scores[name], 0) / D,
          scores,
          grades: perDimension((d) => votes[DIMENSIONS[d]!].answer as Grade),
          votes,
          rationale: summarizeRationale(rationaleClasses(result.rationale, (j * paths + best) * RATIONALE_SIZE)),
        });
      });
    }
    return out;
  } finally {
    if (owned) await exec.release();
  }
}

export interface PairPath {
  answers: PairwiseLabel[];
  rationaleA: Int16Array;
  rationaleB: Int16Array;
}

export interface PairJudgment {
  /** The voted answer per dimension. */
  labels: PerDimension<PairwiseLabel>;
  votes: PerDimension<Vote>;
  /** P(A), P(B), P(tie) per dimension, mean over paths. */
  probabilities: PerDimension<Record<PairwiseLabel, number>>;
  rationaleA: RationaleSummary;
  rationaleB: RationaleSummary;
  /** Every path (with `keepPaths`): what SRPO's pseudo-labels are made of. */
  paths?: PairPath[];
}

export interface CriticPairInput {
  prompt: string;
  a: Float32Array | Video | CriticInput;
  b: Float32Array | Video | CriticInput;
}

/** Pairwise judgments (A / B / tie per dimension) of two videos of one prompt, k paths each, voted. */
export async function comparePairs(
  critic: CriticModel | CriticExecutor,
  pairs: readonly CriticPairInput[],
  opts: InferenceOptions & { keepPaths?: boolean } = {},
): Promise<PairJudgment[]> {
  const { paths, temperature, batch, seed } = checkPaths(opts);
  const { exec, owned } = executorOf(critic);
  const out: PairJudgment[] = [];
  try {
    const perCall = Math.max(1, Math.floor(batch / (2 * paths)));
    for (let start = 0; start < pairs.length; start += perCall) {
      const chunk = pairs.slice(start, start + perCall);
      const rows: { features: Float32Array; prompt: string; rng: Random }[] = [];
      const links: { a: number; b: number; rng: Random }[] = [];
      chunk.forEach((pair, j) => {
        const fa = featuresOf(pair.a, `pair ${start + j} video A`, exec.config);
        const fb = featuresOf(pair.b, `pair ${start + j} video B`, exec.config);
        for (let p = 0; p < paths; p++) {
          const rng = new Random(seed, 'critic-compare', start + j, p);
          rows.push({ features: fa, prompt: pair.prompt, rng }, { features: fb, prompt: pair.prompt, rng });
          links.push({ a: rows.length - 2, b: rows.length - 1, rng });
        }
      });
      const result = await exec.run(makeFeed(exec, rows, links, temperature));
      chunk.forEach((_, j) => {
        const pathList: PairPath[] = Array.from({ length: paths }, (_, p) => {
          const link = j * paths + p;
          return {
            answers: DIMENSIONS.map((_, d) => PAIR_CLASSES[hot(result.pair, (link * D + d) * 3, 3)]!),
            rationaleA: rationaleClasses(result.rationale, links[link]!.a * RATIONALE_SIZE),
            rationaleB: rationaleClasses(result.rationale, links[link]!.b * RATIONALE_SIZE),
          };
        });
        const votes = perDimension((d) => selfConsistencyVote(pathList.map((p) => p.answers[d]!)));
        const probabilities = perDimension((d) => {
          const sum = [0, 0, 0];
          for (let p = 0; p < paths; p++) for (let k = 0; k < 3; k++) sum[k] += Math.exp(result.pairLogp[((j * paths + p) * D + d) * 3 + k]!) / paths;
          return { A: sum[0]!, B: sum[1]!, tie: sum[2]! };
        });
        const agreeing = pathList.map((p) => p.answers.filter((a, d) => a === votes[DIMENSIONS[d]!].answer).length);
        const best = pathList[agreeing.indexOf(Math.max(...agreeing))]!;
        out.push({
          labels: perDimension((d) => votes[DIMENSIONS[d]!].answer as PairwiseLabel),
          votes,
          probabilities,
          rationaleA: summarizeRationale(best.rationaleA),
          rationaleB: summarizeRationale(best.rationaleB),
          ...(opts.keepPaths ? { paths: pathList } : {}),
        });
      });
    }
    return out;
  } finally {
    if (owned) await exec.release();
  }
}

/** The answers about one pair (i < j) of a prompt's candidates, counted over paths and dimensions ("a" = candidate i). */
export interface CandidatePairVotes {
  a: number;
  b: number;
  aWins: number;
  bWins: number;
  ties: number;
}

/**
 * The critic's pairwise judgements of one prompt's candidates (section 3.3: pairwise data for DPO):
 * every pair i < j judged along k paths by the pair head, each path's answer on each dimension
 * counted. n candidates give n (n - 1) / 2 pairs, each 2 k rows (8 candidates: 28 pairs, 448 rows
 * at 8 paths, 7 times the pointwise judging of the same videos).
 */
export async function judgeCandidatePairs(
  critic: CriticModel | CriticExecutor,
  prompt: string,
  candidates: readonly (Float32Array | Video | CriticInput)[],
  opts: InferenceOptions = {},
): Promise<CandidatePairVotes[]> {
  const index: { a: number; b: number }[] = [];
  for (let a = 0; a < candidates.length; a++) for (let b = a + 1; b < candidates.length; b++) index.push({ a, b });
  const judged = await comparePairs(critic, index.map(({ a, b }) => ({ prompt, a: candidates[a]!, b: candidates[b]! })), { ...opts, keepPaths: true });
  return judged.map((j, i) => {
    const answers = j.paths!.flatMap((p) => p.answers);
    const count = (label: PairwiseLabel) => answers.filter((x) => x === label).length;
    return { ...index[i]!, aWins: count('A'), bWins: count('B'), ties: count('tie') };
  });
}

/**
 * SRPO pseudo-labels (section 3.2): the critic votes on pairs of unlabelled videos; each dimension
 * with a decided majority (A or B, not tied with another answer) becomes one label, carrying the
 * rationale of the first path that voted for it. Ties and split votes give no label.
 */
export async function pseudoLabelPairs(
  critic: CriticModel | CriticExecutor,
  pairs: readonly (CriticPairInput & { id?: string })[],
  opts: InferenceOptions = {},
): Promise<PseudoLabel[]> {
  const judged = await comparePairs(critic, pairs, { ...opts, keepPaths: true });
  const labels: PseudoLabel[] = [];
  judged.forEach((j, i) => {
    const pair = pairs[i]!;
    const a = featuresOf(pair.a, `pair ${i} video A`, critic.config);
    const b = featuresOf(pair.b, `pair ${i} video B`, critic.config);
    DIMENSIONS.forEach((name, d) => {
      const vote = j.votes[name];
      if (vote.tied || vote.answer === 'tie') return;
      const path = j.paths!.find((p) => p.answers[d] === vote.answer)!;
      labels.push({ id: pair.id ?? `pair-${i}`, prompt: pair.prompt, a, b, dimension: d, chosen: vote.answer as 'A' | 'B', rationaleA: path.rationaleA, rationaleB: path.rationaleB, vote });
    });
  });
  return labels;
}

export interface CriticAgreement {
  /** Pairwise agreement over every (pair, dimension) the humans decided (ties excluded): the gate's figure. */
  pairwise: Agreement;
  /** Exact-grade agreement over every (video, dimension). */
  pointwise: Agreement;
  perDimension: PerDimension<{ pairwise: number; pointwise: number }>;
}

/** Agreement with human labels (appendix C, Table 1 / A2), e.g. on the held-out human test set. */
export async function criticAgreement(critic: CriticModel | CriticExecutor, test: readonly CriticExample[], opts: InferenceOptions = {}): Promise<CriticAgreement> {
  const { exec, owned } = executorOf(critic);
  try {
    const pairs = await comparePairs(exec, test.map((e) => ({ prompt: e.prompt, a: e.a.features, b: e.b.features })), opts);
    const videos = test.flatMap((e) => [e.a, e.b]);
    const prompts = test.flatMap((e) => [e.prompt, e.prompt]);
    const judged = await judgeVideos(exec, videos.map((v, i) => ({ prompt: prompts[i]!, features: v.features })), opts);
    const pairLabel = (l: number): PairwiseLabel => PAIR_CLASSES[l]!;
    const human = (d: number) => test.map((e) => (e.pair[d]! >= 0 ? pairLabel(e.pair[d]!) : 'tie'));
    const humanGrades = (d: number) => videos.map((v) => (v.grades[d]! >= 0 ? GRADE_CLASSES[v.grades[d]!]! : null));
    const criticPairs = (d: number) => pairs.map((p) => p.labels[DIMENSIONS[d]!]);
    const criticGrades = (d: number) => judged.map((j) => j.grades[DIMENSIONS[d]!]);
    const all = <T>(f: (d: number) => T[]) => DIMENSIONS.flatMap((_, d) => f(d));
    return {
      pairwise: pairwiseAgreement(all(criticPairs), all(human)),
      pointwise: pointwiseAgreement(all(criticGrades), all(humanGrades)),
      perDimension: perDimension((d) => ({ pairwise: pairwiseAgreement(criticPairs(d), human(d)).agreement, pointwise: pointwiseAgreement(criticGrades(d), humanGrades(d)).agreement })),
    };
  } finally {
    if (owned) await exec.release();
  }
}
