// Prompts as tokens, and the small text encoder both models condition on (the analogue of the T5
// encoder CogVideoX reads prompts with, trained here from scratch with its model).
//
// Tokens are lower-cased words and punctuation; the vocabulary is fitted on a training corpus
// (the real-video prompts) and stored in the model config, so a checkpoint carries its tokenizer.
// The encoder embeds each position and reads the embeddings two ways: concatenated (word order
// matters: "a cat left of a ball" is not "a ball left of a cat") and averaged (a bag of words: which
// scene, colours and motions are named, wherever they stand), then maps both through an MLP.
import { dense, type Ops } from './nn/ops';
import type { ParamShapes } from './nn/params';

export const PAD = 0;
export const UNK = 1;

export interface TextConfig {
  /** Index = token id; 0 and 1 are <pad> and <unk>. */
  vocab: string[];
  maxTokens: number;
  embed: number;
  hidden: number;
  /** Width of the conditioning vector. */
  out: number;
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|[;,.]/g) ?? [];
}

/** The vocabulary of a corpus: <pad>, <unk>, then every word seen, sorted (deterministic). */
export function fitVocabulary(texts: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const t of texts) for (const w of words(t)) seen.add(w);
  return ['<pad>', '<unk>', ...[...seen].sort()];
}

/** Token ids of a batch of prompts, padded (or cut) to maxTokens: int32 [B, maxTokens]. */
export function tokenize(texts: readonly string[], cfg: Pick<TextConfig, 'vocab' | 'maxTokens'>): Int32Array {
  const index = new Map(cfg.vocab.map((w, i) => [w, i]));
  const out = new Int32Array(texts.length * cfg.maxTokens);
  texts.forEach((text, b) => {
    words(text)
      .slice(0, cfg.maxTokens)
      .forEach((w, i) => {
        out[b * cfg.maxTokens + i] = index.get(w) ?? UNK;
      });
  });
  return out;
}

export function textParamShapes(prefix: string, cfg: TextConfig): ParamShapes {
  return {
    [`${prefix}.tok.table`]: [cfg.vocab.length, cfg.embed],
    [`${prefix}.fc1.w`]: [cfg.maxTokens * cfg.embed, cfg.hidden],
    [`${prefix}.fc1.b`]: [cfg.hidden],
    [`${prefix}.bow.w`]: [cfg.embed, cfg.hidden],
    [`${prefix}.fc2.w`]: [cfg.hidden, cfg.out],
    [`${prefix}.fc2.b`]: [cfg.out],
  };
}

/** tokens int32 [B, maxTokens] -> conditioning [B, out]. */
export function encodeText<T>(o: Ops<T>, tokens: T, prefix: string, cfg: TextConfig): T {
  // Flattening keeps positions apart: each position has its own rows of fc1, so word order counts.
  const embedded = o.gather(o.param(`${prefix}.tok.table`), tokens);
  const ordered = dense(o, o.reshape(embedded, [-1, cfg.maxTokens * cfg.embed]), `${prefix}.fc1`);
  const bag = o.matmul(o.reduceMean(embedded, [1], false), o.param(`${prefix}.bow.w`));
  const h = o.silu(o.add(ordered, bag));
  return dense(o, h, `${prefix}.fc2`);
}
