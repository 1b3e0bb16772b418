// The critic (the paper's VLM reward model, scaled to this world): a frozen vision tower, a small
// text encoder and a trainable head that first states a rationale and then, conditioned on it,
// gives its verdicts.
//
//   video -> fixed pixel statistics x (features.ts, plain JS)              } frozen vision tower
//   x -> relu(x R + c), R and c fixed random ("vis.*", never trained)     }
//   prompt -> tokens -> text encoder t (text.ts)                           trainable from here on
//   v = MLP([x, relu(xR + c)])                      what the pixels show, blind to the prompt
//   p = colour pointers(x, t)                       the prompt's colours looked up in the pixels
//   m = f(v, p), h = FiLM_t(g(v, p)) + MLP          subject-aware and joint states
//   rationale, step 1: asked <- t, seen <- v (motion <- m), flaws <- v      } Gumbel-max samples
//   rationale, step 2: mismatches <- h + (asked, seen, asked x seen)       } ("reasoning")
//   verdict = softmax Bad/Normal/Good per dimension, from (h, rationale)    pointwise answer
//   pair    = softmax A/B/tie per dimension, from q_A - q_B, q = f(h, rationale)   pairwise answer
//
// Each part of the rationale comes from the state that may know it: a critic whose "seen colour"
// can read the prompt learns to see what it is told (seen agrees with asked 85% of the time) and
// never notices a wrong colour. FiLM (feature-wise scale and shift by the prompt) and the pointers
// let the joint state ask prompt-specific questions of the pixels. The pair head sees only the
// difference of the two videos' summaries and scores A from d and B from -d with the same weights,
// so swapping the videos swaps the answer exactly.
//
// The forward pass is written once against Ops (nn/ops.ts): TfOps trains it, OnnxOps records the
// same program as the ONNX graph onnxruntime-node serves (onnx.ts). Sampling noise is an input, drawn
// in JS, so both executors take the same paths.
import { GRADES, HUMAN_DIMENSIONS } from '../../world';
import { dense, norm, type Ops } from '../nn/ops';
import { initParams, type ParamSet, type ParamShapes } from '../nn/params';
import { Random } from '../nn/random';
import { encodeText, textParamShapes, type TextConfig } from '../text';
import { FEATURE_LAYOUT, FEATURE_SIZE, FEATURE_VERSION, PALETTE, featureSize } from './features';
import { COMPARED_GROUPS, MISMATCH_START, RATIONALE_PARTS, RATIONALE_SHAPE, RATIONALE_SIZE, rationaleMask } from './rationale';

export const CRITIC_KIND = 'critic';

export interface CriticConfig {
  /** Version of the frozen pixel statistics (features.ts) the weights were trained on. */
  featureVersion: number;
  /** Length of the pixel-statistics vector. */
  features: number;
  /** Width of the frozen random projection. */
  projection: number;
  /** Width of the trainable head. */
  hidden: number;
  /** Residual MLP blocks of the head. */
  blocks: number;
  /** Width of the verdict and pair heads. */
  headWidth: number;
  /** Prompt-guided colour pointers (see colourPointers). */
  pointers: number;
  text: TextConfig;
}

/** Sized so that the quickstart warm-starts in about a minute on 2 cores (docs/critic.md). */
export const DEFAULT_CRITIC: CriticConfig = {
  featureVersion: FEATURE_VERSION,
  features: FEATURE_SIZE,
  projection: 256,
  hidden: 128,
  blocks: 2,
  headWidth: 64,
  pointers: 4,
  text: { vocab: [], maxTokens: 56, embed: 16, hidden: 64, out: 128 },
};

/** For tests: the same architecture at a fraction of the width. */
export const TINY_CRITIC: CriticConfig = {
  featureVersion: FEATURE_VERSION,
  features: FEATURE_SIZE,
  projection: 64,
  hidden: 48,
  blocks: 1,
  headWidth: 32,
  pointers: 2,
  text: { vocab: [], maxTokens: 56, embed: 8, hidden: 32, out: 48 },
};

/** The three human dimensions (appendix A.2) in output order, and the grade / pair classes. */
export const DIMENSIONS = HUMAN_DIMENSIONS;
export const GRADE_CLASSES = GRADES; // ['Bad', 'Normal', 'Good']
export const PAIR_CLASSES = ['A', 'B', 'tie'] as const;
/** What a grade is worth in the per-video score (the expected grade). */
export const GRADE_VALUE = [0, 0.5, 1] as const;

export interface CriticModel {
  config: CriticConfig;
  params: ParamSet;
  /** Seed of the initialisation: the base critic (the SRPO reference) is initCritic(config, vocab, baseSeed). */
  baseSeed: number | string;
}

export function criticParamShapes(c: CriticConfig): ParamShapes {
  const { features: F, projection: P, hidden: H, headWidth: Q } = c;
  const C = c.text.out;
  const R = RATIONALE_SIZE;
  const M = COMPARED_GROUPS * RATIONALE_SHAPE.classes;
  const D = DIMENSIONS.length;
  const shapes: ParamShapes = {
    'vis.proj.w': [F, P],
    'vis.proj.b': [P],
    ...textParamShapes('ctext', c.text),
    'att.w': [C, c.pointers * PALETTE.bins],
    'att.b': [c.pointers * PALETTE.bins],
    'v.in.w': [F + P, H],
    'v.in.b': [H],
    'v.in.n.g': [H],
    'v.in.n.b': [H],
    'v.out.n.g': [H],
    'v.out.n.b': [H],
    'm.in.w': [H + c.pointers * POINTER_WIDTH, H],
    'm.in.b': [H],
    'in.w': [H + c.pointers * POINTER_WIDTH, H],
    'in.b': [H],
    'in.n.g': [H],
    'in.n.b': [H],
    'film.g.w': [C, H],
    'film.g.b': [H],
    'film.b.w': [C, H],
    'film.b.b': [H],
    'out.n.g': [H],
    'out.n.b': [H],
    ...Object.fromEntries(
      RATIONALE_PARTS.flatMap((part) => [
        [`rat.${part.name}.w`, [part.from === 't' ? C : H, part.groups * RATIONALE_SHAPE.classes]],
        [`rat.${part.name}.b`, [part.groups * RATIONALE_SHAPE.classes]],
      ]),
    ),
    'mm.w': [3 * M, R - MISMATCH_START * RATIONALE_SHAPE.classes],
    'ver.h.w': [H, Q],
    'ver.h.b': [Q],
    'ver.r.w': [R, Q],
    'ver.m.w': [M, Q],
    'ver.out.w': [Q, D * GRADE_CLASSES.length],
    'ver.out.b': [D * GRADE_CLASSES.length],
    'pair.h.w': [H, Q],
    'pair.h.b': [Q],
    'pair.r.w': [R, Q],
    'pair.m.w': [M, Q],
    'pair.f1.w': [Q, Q],
    'pair.f1.b': [Q],
    'pair.f2.w': [Q, D],
    'pair.f2.b': [D],
    'pair.g1.w': [Q, Q],
    'pair.g1.b': [Q],
    'pair.g2.w': [Q, D],
    'pair.g2.b': [D],
  };
  for (const prefix of ['b', 'vb']) {
    for (let i = 0; i < c.blocks; i++) {
      Object.assign(shapes, {
        [`${prefix}${i}.n.g`]: [H],
        [`${prefix}${i}.n.b`]: [H],
        [`${prefix}${i}.fc1.w`]: [H, H],
        [`${prefix}${i}.fc1.b`]: [H],
        [`${prefix}${i}.fc2.w`]: [H, H],
        [`${prefix}${i}.fc2.b`]: [H],
      });
    }
  }
  return shapes;
}

/** The frozen part of the vision tower: never trained, the same for every critic of a feature version. */
export const isFrozen = (name: string) => name.startsWith('vis.');

/**
 * A fresh critic. Output layers start at zero, so the untrained critic answers uniformly (every
 * grade, pair answer and rationale class equally likely): that base critic is the SRPO reference.
 */
export function initCritic(config: CriticConfig, vocab: readonly string[], seed: number | string): CriticModel {
  let size: number;
  try {
    size = featureSize(config.featureVersion);
  } catch (e) {
    throw new Error(`initCritic: config.featureVersion: ${(e as Error).message}`);
  }
  if (config.features !== size) {
    throw new Error(`initCritic: config.features is ${config.features}, feature version ${config.featureVersion} has ${featureSize(config.featureVersion)} values`);
  }
  if (vocab.length < 3 || vocab[0] !== '<pad>' || vocab[1] !== '<unk>') throw new Error('initCritic: vocab must come from fitVocabulary (starting with <pad>, <unk>)');
  const full: CriticConfig = { ...config, text: { ...config.text, vocab: [...vocab] } };
  const shapes = criticParamShapes(full);
  const params = initParams(shapes, `${seed}/critic`, (name) => /^(rat\.\w+|mm|ver\.out|pair\.f2|pair\.g2|v?b\d+\.fc2)\.w$/.test(name));
  // The vision tower's projection: fixed random features, seeded by the feature version only.
  const rng = new Random('critic-vision-tower', config.featureVersion, config.projection);
  params['vis.proj.w'] = { shape: [full.features, full.projection], data: rng.normals(full.features * full.projection, Math.sqrt(2 / full.features)) };
  params['vis.proj.b'] = { shape: [full.projection], data: rng.normals(full.projection, 0.1) };
  return { config: full, params, baseSeed: seed };
}

// ---------------------------------------------------------------------------------------------
// The forward pass, in pieces (training teacher-forces the rationale between them).

/** Numbers read per pointer: presence, moving share, mass per time block, centroid (x, y) per time block. */
const POINTER_WIDTH = 2 + 3 * PALETTE.blocks;

// colourPointers reads presence, moving share and block masses as one block of 2 + N rows of K bins.
{
  const [global, moving, blocks] = ['colour.global', 'colour.moving', 'colour.blocks'].map((name) => FEATURE_LAYOUT.parts[name]![0]);
  if (moving !== global! + PALETTE.bins || blocks !== global! + 2 * PALETTE.bins) throw new Error('critic model: the colour parts of the features must follow one another');
}

/**
 * Prompt-guided pooling (the head's cross-attention into the frozen features): each of
 * `pointers` softmax distributions over the palette's colour bins, computed from the prompt, reads
 * how much of that colour there is, how much of it moves, and where it is in each time block. With
 * it, "the red cat walks left" becomes "how much red is there and which way does it go" directly,
 * instead of a pattern the MLP must find among every colour's statistics.
 */
export function colourPointers<T>(o: Ops<T>, features: T, t: T, c: CriticConfig): T {
  const { bins: K, blocks: N } = PALETTE;
  const at = (name: string) => FEATURE_LAYOUT.parts[name]!;
  // Scaled up so that the pointers can become sharp (one colour) with weights of ordinary size.
  const att = o.softmax(o.scale(o.reshape(dense(o, t, 'att'), [-1, c.pointers, K]), 4)); // [B, M, K]
  // Presence, moving share and the N block masses lie in the features as 2 + N rows of K bins, so
  // one batched product reads them for every pointer where they are, [B, 2 + N, K] x [B, K, M]; only
  // the centroids ([N, K, 2]) are reordered to bins first. The same sums as multiplying and reducing
  // per part, at a fraction of the inference time those broadcasts and reorders took (bench: labelling).
  const start = at('colour.global')[0];
  const binRows = o.reshape(o.slice(features, 1, start, start + (2 + N) * K), [-1, 2 + N, K]);
  const rows = o.batchMatmul(binRows, o.transpose(att, [0, 2, 1])); // [B, 2 + N, M]
  const [where0, whereLength] = at('colour.where');
  const centroids = o.reshape(o.transpose(o.reshape(o.slice(features, 1, where0, where0 + whereLength), [-1, N, K, 2]), [0, 2, 1, 3]), [-1, K, N * 2]);
  const where = o.batchMatmul(att, centroids); // [B, M, 2N]
  const read = [
    o.reshape(o.slice(rows, 1, 0, 1), [-1, c.pointers]),
    o.reshape(o.slice(rows, 1, 1, 2), [-1, c.pointers]),
    o.reshape(o.transpose(o.slice(rows, 1, 2, 2 + N), [0, 2, 1]), [-1, c.pointers * N]),
    o.reshape(where, [-1, c.pointers * N * 2]),
  ];
  return o.concat(read, 1);
}

/**
 * The head's states, [B, H] each except t: what the video shows by itself (v: pixels only, no
 * prompt), where the prompt's subject colours go (m: v and the prompt-guided colour reads), the joint
 * state (h: v and the reads, FiLM-modulated by the prompt) and the prompt's encoding (t).
 *
 * v must not see the prompt: a critic that reads "red" in the prompt will happily "see" red (seen
 * attributes agree with asked ones 85% of the time), and then never notices the wrong colour.
 */
export interface TrunkState<T> {
  v: T;
  m: T;
  h: T;
  t: T;
}

function residual<T>(o: Ops<T>, x: T, prefix: string, blocks: number): T {
  for (let i = 0; i < blocks; i++) x = o.add(x, dense(o, o.silu(dense(o, norm(o, x, `${prefix}${i}.n`), `${prefix}${i}.fc1`)), `${prefix}${i}.fc2`));
  return x;
}

/** features [B, F], tokens int32 [B, L] -> the head's states. */
export function trunk<T>(o: Ops<T>, features: T, tokens: T, c: CriticConfig): TrunkState<T> {
  const projected = o.relu(o.add(o.matmul(features, o.param('vis.proj.w')), o.param('vis.proj.b')));
  const v = norm(o, residual(o, o.silu(norm(o, dense(o, o.concat([features, projected], 1), 'v.in'), 'v.in.n')), 'vb', c.blocks), 'v.out.n');
  const t = encodeText(o, tokens, 'ctext', c.text);
  const read = o.concat([v, colourPointers(o, features, t, c)], 1);
  const m = o.silu(dense(o, read, 'm.in'));
  let h = norm(o, dense(o, read, 'in'), 'in.n');
  h = o.silu(o.add(o.mul(h, o.shift(dense(o, t, 'film.g'), 1)), dense(o, t, 'film.b')));
  return { v, m, h: norm(o, residual(o, h, 'b', c.blocks), 'out.n'), t };
}

/**
 * First reasoning step: rationale logits [B, G, C] (padding classes at PAD_LOGIT), each block from
 * the state that may know it (RATIONALE_PARTS): asked from the prompt alone, seen objects, colours
 * and flaws from the pixels alone, the first subject's motion from the prompt-guided reads, and a
 * first guess of the mismatches from the joint state (refined in the second step).
 */
export function rationaleLogits<T>(o: Ops<T>, s: TrunkState<T>): T {
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const parts = RATIONALE_PARTS.map((part) => dense(o, s[part.from], `rat.${part.name}`));
  return o.add(o.reshape(o.concat(parts, 1), [-1, G, C]), o.constant(rationaleMask(), [G, C]));
}

/** The compare step: asked x seen, elementwise per class, [B, M] (1 where the video shows what is asked). */
function agreement<T>(o: Ops<T>, rationale: T): T {
  const n = COMPARED_GROUPS * RATIONALE_SHAPE.classes;
  return o.mul(o.slice(rationale, 1, 0, n), o.slice(rationale, 1, n, 2 * n));
}

/**
 * Second reasoning step: given a sample of the first step (`first`, one-hot [B, G*C]), the mismatch
 * groups' logits are refined from what was asked, what was seen and where they agree ("asked red,
 * saw green: the colour is wrong"). Returns the full logits [B, G, C]; other groups are unchanged.
 */
export function refineMismatches<T>(o: Ops<T>, logits: T, first: T): T {
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const n = COMPARED_GROUPS * C;
  const start = MISMATCH_START * C;
  // Linear in (asked, seen, agreement): "some asked colour is not seen" is a sum of those already.
  const read = o.scale(o.concat([o.slice(first, 1, 0, 2 * n), agreement(o, first)], 1), ONE_HOT_GAIN);
  const flat = o.reshape(logits, [-1, G * C]);
  const refined = o.concat([o.slice(flat, 1, 0, start), o.add(o.slice(flat, 1, start, G * C), o.matmul(read, o.param('mm.w')))], 1);
  return o.reshape(refined, [-1, G, C]);
}

/**
 * One-hot inputs (rationales) are scaled up before their weights: only a few weights see a non-zero
 * input, and at ordinary scale Adam needs thousands of steps to grow them, so the heads would learn
 * to lean on the dense state h (and memorise the seed set) long before they learn to read the
 * rationale. The gain is the learning-rate multiplier of those weights.
 */
const ONE_HOT_GAIN = 8;

/** The verdict's and the pair head's view of a video: h, the rationale and the asked/seen agreement. */
function conditioned<T>(o: Ops<T>, h: T, rationale: T, prefix: string): T {
  const r = o.scale(rationale, ONE_HOT_GAIN);
  const m = o.scale(agreement(o, rationale), ONE_HOT_GAIN);
  return o.silu(o.add(o.add(dense(o, h, `${prefix}.h`), o.matmul(r, o.param(`${prefix}.r.w`))), o.matmul(m, o.param(`${prefix}.m.w`))));
}

/** h [B, H], rationale one-hot [B, G*C] -> verdict log-probabilities [B, D, 3] (Bad, Normal, Good). */
export function verdictLogp<T>(o: Ops<T>, h: T, rationale: T): T {
  return o.logSoftmax(o.reshape(dense(o, conditioned(o, h, rationale, 'ver'), 'ver.out'), [-1, DIMENSIONS.length, GRADE_CLASSES.length]));
}

/** Per-video summary for comparisons, q [B, Q]. */
export function pairSummary<T>(o: Ops<T>, h: T, rationale: T): T {
  return conditioned(o, h, rationale, 'pair');
}

/** Summaries of A and B [P, Q] -> pairwise log-probabilities [P, D, 3] (A, B, tie). */
export function pairLogp<T>(o: Ops<T>, qa: T, qb: T): T {
  const D = DIMENSIONS.length;
  const d = o.sub(qa, qb);
  const side = (x: T) => o.reshape(dense(o, o.silu(dense(o, x, 'pair.f1')), 'pair.f2'), [-1, D, 1]);
  // |d| = relu(d) + relu(-d): the tie logit depends only on how different the two videos are.
  const gap = o.add(o.relu(d), o.relu(o.neg(d)));
  const tie = o.reshape(dense(o, o.silu(dense(o, gap, 'pair.g1')), 'pair.g2'), [-1, D, 1]);
  return o.logSoftmax(o.concat([side(d), side(o.neg(d)), tie], 2));
}

export interface GraphInputs<T> {
  /** [B, F] pixel statistics. */
  features: T;
  /** int32 [B, L]. */
  tokens: T;
  /** [B, G, C] uniform draws in (0, 1) for the rationale's Gumbel-max sampling. */
  rationaleUniform: T;
  /** [B, D, 3] uniform draws for the pointwise answers. */
  verdictUniform: T;
  /** [1] the sampling temperature: Gumbel noise x temperature (0 = greedy). */
  temperature: T;
  /** int32 [P]: rows of the batch compared as A and as B. */
  pairA: T;
  pairB: T;
  /** [P, D, 3] uniform draws for the pairwise answers. */
  pairUniform: T;
}

/** Gumbel noise x temperature from uniform draws, inside the graph: -log(-log u) costs two logs per
 *  draw, which in JS took as long as the whole network (bench: labelling). */
function gumbelNoise<T>(o: Ops<T>, uniform: T, temperature: T): T {
  return o.mul(o.neg(o.log(o.neg(o.log(o.clip(uniform, 1e-7, 1 - 1e-7))))), temperature);
}

export interface GraphOutputs<T> {
  /** [B, G*C] the sampled rationale (one-hot per group). */
  rationale: T;
  /** [B, D*3] log-probabilities of the grades given that rationale. */
  verdictLogp: T;
  /** [B, D*3] the sampled grades (one-hot per dimension). */
  verdict: T;
  /** [P, D*3] log-probabilities of A / B / tie. */
  pairLogp: T;
  /** [P, D*3] the sampled pairwise answers. */
  pair: T;
}

/**
 * One inference program: B videos (each a path: the same video appears once per path, with its own
 * noise) and P comparisons between rows of the batch. Rationale first, then the verdicts conditioned
 * on it, all sampled by Gumbel-max from the noise inputs.
 */
export function criticGraph<T>(o: Ops<T>, x: GraphInputs<T>, c: CriticConfig): GraphOutputs<T> {
  const D = DIMENSIONS.length;
  const state = trunk(o, x.features, x.tokens, c);
  const h = state.h;
  // Two steps with the same noise: the second re-draws only the mismatch groups (the others keep
  // their logits, so their Gumbel-max samples are unchanged).
  const logits = rationaleLogits(o, state);
  const rationaleNoise = gumbelNoise(o, x.rationaleUniform, x.temperature);
  const first = o.reshape(o.hardMax(o.add(logits, rationaleNoise)), [-1, RATIONALE_SIZE]);
  const rationale = o.reshape(o.hardMax(o.add(refineMismatches(o, logits, first), rationaleNoise)), [-1, RATIONALE_SIZE]);
  const vLogp = verdictLogp(o, h, rationale);
  const verdict = o.hardMax(o.add(vLogp, gumbelNoise(o, x.verdictUniform, x.temperature)));
  const q = pairSummary(o, h, rationale);
  const pLogp = pairLogp(o, o.gather(q, x.pairA), o.gather(q, x.pairB));
  const pair = o.hardMax(o.add(pLogp, gumbelNoise(o, x.pairUniform, x.temperature)));
  const flat = (v: T) => o.reshape(v, [-1, D * 3]);
  return { rationale, verdictLogp: flat(vLogp), verdict: flat(verdict), pairLogp: flat(pLogp), pair: flat(pair) };
}
