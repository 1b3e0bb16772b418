// The human data of the builtin campaign, annotated by the world's simulated panel: the seed set
// the critic is warm-started on and the held-out test set that validates every critic (appendix C).
//
// The paper annotates videos of the model being aligned (CogVideoX-2B samples, section 3.2 and
// appendix C: "constructed from the current T2V model"). So here a share of the prompts get two
// samples of the base generator, and the rest two videos from the world's default source (clean
// renders and renders with one realistic defect), which covers the defects the generator will only
// show later. Both sets use the same panel; their prompts come from separate streams, so no prompt
// of the test set is ever trained on. This mirrors lib/world's buildHumanSeedSet / buildHumanTestSet
// (same panel calls, same record layout), with generator samples drawn in batches on onnxruntime.
import {
  defaultVideoSource,
  makePanel,
  panelPairwise,
  panelPointwise,
  perceive,
  samplePrompts,
  type HumanEvidence,
  type PairRecord,
  type Prompt,
  type Split,
  type Video,
} from '../world';
import type { OnnxGenerator } from './generator-serving';
import { Random } from './nn/random';

export interface HumanSetOptions {
  split: Split;
  /** Number of pairs (each prompt gives one pair of two videos). */
  pairs: number;
  seed: string;
  /** Base generator for the generator share (none: renders only). */
  generator?: OnnxGenerator;
  generatorShare: number;
  /** How the panel turns evidence into scores (lib/world assessment.ts; default 'graded'). */
  evidence?: HumanEvidence;
  onProgress?: (done: number, total: number) => Promise<void> | void;
  signal?: AbortSignal;
}

export async function buildHumanSet(opts: HumanSetOptions): Promise<{ records: PairRecord[]; stats: Record<string, unknown> }> {
  const prompts = samplePrompts({ count: opts.pairs, seed: `${opts.seed}/${opts.split}/prompts` });
  const source = defaultVideoSource({ seed: `${opts.seed}/${opts.split}/videos` });
  // One panel for both sets: the same ten annotators label seed and test data.
  const panel = makePanel({ seed: `${opts.seed}/panel`, ...(opts.evidence ? { evidence: opts.evidence } : {}) });
  const fromGenerator = (p: Prompt) => opts.generator !== undefined && new Random(opts.seed, opts.split, 'source', p.id).next() < opts.generatorShare;
  const generated = new Map<string, Video>();
  const wanted = prompts.filter(fromGenerator);
  if (wanted.length && opts.generator) {
    const requests = wanted.flatMap((p) => [0, 1].map((v) => ({ prompt: p.text, seed: `${opts.seed}/${opts.split}/${p.id}/${v}` })));
    const { videos } = await opts.generator.sample(requests);
    wanted.forEach((p, i) => {
      generated.set(`${p.id}/0`, videos[2 * i]!);
      generated.set(`${p.id}/1`, videos[2 * i + 1]!);
    });
  }
  const records: PairRecord[] = [];
  const origins: Record<string, number> = {};
  for (const [i, prompt] of prompts.entries()) {
    if (opts.signal?.aborted) throw new Error('cancelled');
    const viewed = await Promise.all(
      [0, 1].map(async (variant) => {
        const key = `${prompt.id}/${variant}`;
        const sample = generated.has(key) ? { video: generated.get(key)!, origin: 'generator' } : await source(prompt, variant);
        origins[sample.origin.split('@')[0]!] = (origins[sample.origin.split('@')[0]!] ?? 0) + 1;
        return { viewed: { video: sample.video, perception: perceive(sample.video), key }, origin: sample.origin };
      }),
    );
    const [a, b] = viewed as [(typeof viewed)[number], (typeof viewed)[number]];
    records.push({
      id: `${opts.split}-${i}`,
      split: opts.split,
      prompt,
      a: { id: a.viewed.key, origin: a.origin, video: a.viewed.video, pointwise: panelPointwise(panel, prompt.spec, a.viewed) },
      b: { id: b.viewed.key, origin: b.origin, video: b.viewed.video, pointwise: panelPointwise(panel, prompt.spec, b.viewed) },
      pairwise: panelPairwise(panel, prompt.spec, a.viewed, b.viewed),
    });
    if ((i + 1) % 25 === 0 || i + 1 === prompts.length) await opts.onProgress?.(i + 1, prompts.length);
  }
  let ties = 0;
  let labels = 0;
  for (const r of records) {
    for (const l of Object.values(r.pairwise.labels)) {
      labels++;
      if (l === 'tie') ties++;
    }
  }
  const evidence = { evidence: opts.evidence ?? 'graded' };
  return { records, stats: { pairs: records.length, videos: 2 * records.length, tieRate: labels ? ties / labels : 0, origins, ...evidence } };
}
