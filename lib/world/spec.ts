// The structured spec of a prompt, the video tensor type, and their validation. A spec is what a
// prompt *means*: the renderer draws it, perception is checked against it, its text is derived from it.
import {
  ACTIONS,
  COLOURS,
  RELATIONS,
  SCENES,
  SIZES,
  SPEEDS,
  STYLES,
  SUBJECT_KINDS,
  type Action,
  type Category,
  type Colour,
  type Difficulty,
  type Relation,
  type Scene,
  type Size,
  type Speed,
  type Style,
  type SubjectKind,
} from './vocabulary';

export interface SubjectSpec {
  kind: SubjectKind;
  color: Colour;
  size: Size;
  action: Action;
}

/** "subjects[subject] is <type> subjects[object]", e.g. the cat is left of the ball. */
export interface RelationSpec {
  type: Relation;
  subject: number;
  object: number;
}

export interface PromptSpec {
  /** One or two subjects; two subjects always come with a relation. */
  subjects: SubjectSpec[];
  relation?: RelationSpec;
  scene: Scene;
  /** Appearance style (VBench's appearance_style). */
  style: Style;
  /** Temporal style: how fast the travelling subjects move. */
  speed: Speed;
}

export interface Prompt {
  id: string;
  text: string;
  spec: PromptSpec;
  difficulty: Difficulty;
  /** The category of the first (main) subject. */
  category: Category;
}

/** A video: `data` is laid out [T, H, W, 3] (frame, row, column, RGB), values in [0, 1]. */
export interface Video {
  frames: number;
  height: number;
  width: number;
  data: Float32Array;
}

export const MAX_SUBJECTS = 2;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, what: string): T {
  if (typeof value !== 'string') throw new Error(`${path}: expected a ${what} name, got ${JSON.stringify(value)}`);
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${path}: unknown ${what} "${value}" (known: ${allowed.join(', ')})`);
  return value as T;
}

/**
 * Checks a spec against the vocabulary and the world's rules and returns it typed; throws an Error
 * naming the bad field, e.g. `spec.subjects[1].color: unknown colour "teal"`. It checks that a spec
 * can be drawn; whether it is sensible (a fish in the desert) is the prompt filter's business.
 */
export function validateSpec(spec: unknown): PromptSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error('spec: expected an object');
  const s = spec as Record<string, unknown>;
  const known = new Set(['subjects', 'relation', 'scene', 'style', 'speed']);
  for (const key of Object.keys(s)) if (!known.has(key)) throw new Error(`spec.${key}: unknown field (known: ${[...known].join(', ')})`);

  if (!Array.isArray(s.subjects)) throw new Error('spec.subjects: expected an array of 1 or 2 subjects');
  if (s.subjects.length < 1 || s.subjects.length > MAX_SUBJECTS) throw new Error(`spec.subjects: expected 1 to ${MAX_SUBJECTS} subjects, got ${s.subjects.length}`);
  s.subjects.forEach((subject, i) => {
    const path = `spec.subjects[${i}]`;
    if (typeof subject !== 'object' || subject === null) throw new Error(`${path}: expected an object`);
    const sub = subject as Record<string, unknown>;
    for (const key of Object.keys(sub)) if (!['kind', 'color', 'size', 'action'].includes(key)) throw new Error(`${path}.${key}: unknown field (known: kind, color, size, action)`);
    oneOf(sub.kind, SUBJECT_KINDS, `${path}.kind`, 'subject');
    oneOf(sub.color, COLOURS, `${path}.color`, 'colour');
    oneOf(sub.size, SIZES, `${path}.size`, 'size');
    oneOf(sub.action, ACTIONS, `${path}.action`, 'action');
  });

  const n = s.subjects.length;
  if (s.relation === undefined) {
    if (n > 1) throw new Error('spec.relation: two subjects need a spatial relation (left of, right of, above, below)');
  } else {
    if (typeof s.relation !== 'object' || s.relation === null) throw new Error('spec.relation: expected {type, subject, object}');
    const r = s.relation as Record<string, unknown>;
    oneOf(r.type, RELATIONS, 'spec.relation.type', 'relation');
    if (n < 2) throw new Error(`spec.relation: impossible relation "${String(r.type)}" with a single subject`);
    for (const end of ['subject', 'object'] as const) {
      const index = r[end];
      if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= n) throw new Error(`spec.relation.${end}: expected a subject index in 0..${n - 1}, got ${JSON.stringify(index)}`);
    }
    if (r.subject === r.object) throw new Error(`spec.relation: impossible relation: subject ${String(r.subject)} cannot be "${String(r.type)}" itself`);
  }

  oneOf(s.scene, SCENES, 'spec.scene', 'scene');
  oneOf(s.style, STYLES, 'spec.style', 'style');
  oneOf(s.speed, SPEEDS, 'spec.speed', 'speed');
  return spec as PromptSpec;
}

/** Checks a video's shape and size; throws naming what is wrong. Values are not checked (any float is tolerated). */
export function validateVideo(video: Video, what = 'video'): Video {
  const { frames, height, width, data } = video ?? ({} as Video);
  for (const [name, v] of [['frames', frames], ['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${what}.${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  }
  if (!(data instanceof Float32Array)) throw new Error(`${what}.data: expected a Float32Array`);
  if (data.length !== frames * height * width * 3) throw new Error(`${what}.data: expected ${frames}x${height}x${width}x3 = ${frames * height * width * 3} values, got ${data.length}`);
  return video;
}

export function cloneSpec(spec: PromptSpec): PromptSpec {
  const copy: PromptSpec = { ...spec, subjects: spec.subjects.map((s) => ({ ...s })) };
  if (spec.relation) copy.relation = { ...spec.relation };
  else delete copy.relation;
  return copy;
}
