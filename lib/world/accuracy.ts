// How often perception reads clean renders right, field by field: the check behind the claim that
// perception is right at least 99% of the time on ground-truth videos.
import { perceive, type PerceivedObject, type Perception } from './perception';
import { samplePrompts } from './prompts';
import { renderVideo } from './render';
import type { Seed } from './rng';
import type { PromptSpec, Video } from './spec';
import { ACTION_INFO, RELATION_AXIS, type Relation } from './vocabulary';

/** Which perceived object stands for each subject of a spec (by colour, then shape), or undefined. */
export function matchSubjects(spec: PromptSpec, perception: Perception): (PerceivedObject | undefined)[] {
  const free = new Set(perception.objects);
  const out: (PerceivedObject | undefined)[] = spec.subjects.map(() => undefined);
  const passes: ((s: PromptSpec['subjects'][number], o: PerceivedObject) => boolean)[] = [
    (s, o) => o.colour === s.color && o.kind === s.kind,
    (s, o) => o.colour === s.color,
    (s, o) => o.kind === s.kind,
    () => true,
  ];
  for (const pass of passes) {
    spec.subjects.forEach((s, i) => {
      if (out[i]) return;
      const o = [...free].find((candidate) => pass(s, candidate));
      if (o) {
        out[i] = o;
        free.delete(o);
      }
    });
  }
  return out;
}

/** The relation of a to b from their mean positions over the frames both are seen in. */
export function perceivedRelation(a: PerceivedObject, b: PerceivedObject, axis?: 'horizontal' | 'vertical'): Relation | undefined {
  let dx = 0;
  let dy = 0;
  let n = 0;
  for (let t = 0; t < a.x.length; t++) {
    if (!a.present[t] || !b.present[t]) continue;
    dx += a.x[t]! - b.x[t]!;
    dy += a.y[t]! - b.y[t]!;
    n++;
  }
  if (n === 0) return undefined;
  const horizontal = axis ? axis === 'horizontal' : Math.abs(dx) >= Math.abs(dy);
  return horizontal ? (dx < 0 ? 'left of' : 'right of') : dy < 0 ? 'above' : 'below';
}

export interface PerceptionAccuracy {
  videos: number;
  /** Share of readings right, per field (each subject counts once for subject fields). */
  fields: Record<string, { right: number; total: number; accuracy: number }>;
  /** Share of videos where every field is right. */
  allRight: number;
  /** Mean milliseconds to perceive one video. */
  msPerVideo: number;
  /** A few misreadings, to look at. */
  examples: string[];
}

/** Renders `count` sampled prompts cleanly and checks what perception reads against their specs. */
export function measurePerception(options: { count: number; seed: Seed; frames?: number; size?: number }): PerceptionAccuracy {
  const prompts = samplePrompts({ count: options.count, seed: options.seed });
  const fields: PerceptionAccuracy['fields'] = {};
  const tally = (field: string, ok: boolean) => {
    const f = (fields[field] ??= { right: 0, total: 0, accuracy: 0 });
    f.total++;
    if (ok) f.right++;
    return ok;
  };
  const examples: string[] = [];
  let allRight = 0;
  let ms = 0;
  prompts.forEach((prompt, k) => {
    const video: Video = renderVideo(prompt.spec, { seed: `${String(options.seed)}/${k}`, frames: options.frames, size: options.size });
    const start = performance.now();
    const p = perceive(video);
    ms += performance.now() - start;
    const wrong: string[] = [];
    const check = (field: string, ok: boolean, detail: string) => {
      if (!tally(field, ok)) wrong.push(`${field}: ${detail}`);
    };
    const spec = prompt.spec;
    check('scene', p.scene === spec.scene, `${p.scene} for ${spec.scene}`);
    check('count', p.objects.length === spec.subjects.length, `${p.objects.length} objects for ${spec.subjects.length}`);
    check('style', p.style === spec.style, `${p.style} for ${spec.style}`);
    const matched = matchSubjects(spec, p);
    spec.subjects.forEach((s, i) => {
      const o = matched[i];
      check('kind', o?.kind === s.kind, `${o?.kind} for ${s.kind}`);
      check('colour', o?.colour === s.color, `${o?.colour} for ${s.color}`);
      check('size', o?.size === s.size, `${o?.size} (${o?.sizePx.toFixed(1)} px) for ${s.size}`);
      check('motion', o?.motion.motion === s.action, `${o?.motion.motion} for ${s.action}`);
      if (ACTION_INFO[s.action].translational) check('speed', o?.motion.speed === spec.speed, `${o?.motion.speed} (${o?.motion.travel.toFixed(3)}) for ${spec.speed}`);
    });
    if (spec.relation) {
      const a = matched[spec.relation.subject];
      const b = matched[spec.relation.object];
      const rel = a && b ? perceivedRelation(a, b, RELATION_AXIS[spec.relation.type]) : undefined;
      check('relation', rel === spec.relation.type, `${rel} for ${spec.relation.type}`);
    }
    if (wrong.length === 0) allRight++;
    else if (examples.length < 20) examples.push(`${prompt.id} "${prompt.text}": ${wrong.join('; ')}`);
  });
  for (const f of Object.values(fields)) f.accuracy = f.total ? f.right / f.total : 1;
  return { videos: prompts.length, fields, allRight: prompts.length ? allRight / prompts.length : 1, msPerVideo: ms / Math.max(1, prompts.length), examples };
}
