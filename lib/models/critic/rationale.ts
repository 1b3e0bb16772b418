// The critic's rationale: what it says before it gives a verdict (paper section 3.2, CoT-guided
// annotation). A VLM critic writes its chain of thought as text, and the annotators' rationales here
// read "The prompt asks for ... Matches ... Mismatches ... Motion ... Picture ... So ...". Ours
// predicts the same content as a fixed set of categorical attributes, one softmax per group:
//
//   asked:objects, asked:colour:<c>, asked:motion   what the prompt asks for (read from the text only)
//   seen:objects,  seen:colour:<c>,  seen:motion    what the video shows
//       objects: none / one / two / more; colour:<c>: is there a subject of colour c (8 groups);
//       motion: what the first subject does (every motion the world can name, or nothing)
//   mismatch:<a>     does attribute a contradict the prompt (objects, subject, colour, size, action,
//                    relation, scene, style, speed)
//   flaw:<f>         flaw f is visible (shake, flicker, popping, erratic; blur, noise, deformed,
//                    muddy colour, artefacts, background)
//
// The asked and seen blocks list the same groups in the same order, so they can be compared (their
// elementwise product is 1 exactly where the video shows what the prompt asks). Reasoning has two
// steps, as a chain of thought: first what is asked, what is seen and which flaws; then, given a
// sample of those, which attributes mismatch. Then the verdicts, given all of it.
//
// Training targets come from the annotators' rationales (lib/world/rationale.ts), parsed from their
// lines ("the colour of the cat: expected red, saw green") the way a VLM is fine-tuned on CoT text.
// Groups are padded to a common width with a mask, so a rationale is one [G, C] tensor per video and
// one Gumbel-max samples all of it.
import { ACTIONS, COLOURS, EXTRA_MOTIONS, SUBJECT_KINDS, SUBJECTS, motionPhrase, type Motion, type PromptSpec, type Rationale } from '../../world';

export const MISMATCH_ATTRIBUTES = ['objects', 'subject', 'colour', 'size', 'action', 'relation', 'scene', 'style', 'speed'] as const;
export const FLAW_KINDS = ['shake', 'flicker', 'popping', 'erratic', 'blur', 'noise', 'deformed', 'muddy colour', 'artefacts', 'background'] as const;
export const MOTION_FLAWS: readonly (typeof FLAW_KINDS)[number][] = ['shake', 'flicker', 'popping', 'erratic'];
const MOTIONS: readonly Motion[] = [...ACTIONS, ...EXTRA_MOTIONS, 'unknown'];

export interface RationaleGroup {
  name: string;
  classes: readonly string[];
}

const YES_NO = ['no', 'yes'] as const;

/** The attributes that are both asked for and seen. */
const COMPARED: readonly RationaleGroup[] = [
  { name: 'objects', classes: ['none', 'one', 'two', 'more'] },
  ...COLOURS.map((c) => ({ name: `colour:${c}`, classes: YES_NO })),
  { name: 'motion', classes: ['nothing', ...MOTIONS] },
];
/** Number of groups in each of the asked and seen blocks (groups [0, n) and [n, 2n)). */
export const COMPARED_GROUPS = COMPARED.length;

/** In reasoning order: what is asked, what is seen, which flaws, then (second step) which mismatches. */
export const RATIONALE_GROUPS: readonly RationaleGroup[] = [
  ...COMPARED.map((g) => ({ name: `asked:${g.name}`, classes: g.classes })),
  ...COMPARED.map((g) => ({ name: `seen:${g.name}`, classes: g.classes })),
  ...FLAW_KINDS.map((f) => ({ name: `flaw:${f}`, classes: YES_NO })),
  ...MISMATCH_ATTRIBUTES.map((a) => ({ name: `mismatch:${a}`, classes: YES_NO })),
];
/** Index of the first mismatch group: groups from here on are the second reasoning step. */
export const MISMATCH_START = RATIONALE_GROUPS.length - MISMATCH_ATTRIBUTES.length;

/** Number of groups G and padded width C: a rationale is a [G, C] one-hot (C*G values flat). */
export const RATIONALE_SHAPE = { groups: RATIONALE_GROUPS.length, classes: Math.max(...RATIONALE_GROUPS.map((g) => g.classes.length)) } as const;
export const RATIONALE_SIZE = RATIONALE_SHAPE.groups * RATIONALE_SHAPE.classes;

const groupIndex = new Map(RATIONALE_GROUPS.map((g, i) => [g.name, i]));

/** Added to the logits of padding classes: they never win a sample and carry no probability. */
export const PAD_LOGIT = -1e4;

/** [G, C] additive mask: 0 on real classes, PAD_LOGIT on padding. */
export function rationaleMask(): Float32Array {
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const mask = new Float32Array(G * C);
  RATIONALE_GROUPS.forEach((g, i) => mask.fill(PAD_LOGIT, i * C + g.classes.length, (i + 1) * C));
  return mask;
}

/**
 * Which state of the head predicts which consecutive run of groups (model.ts): what is asked from
 * the prompt (t), what is seen from the pixels (v) except the first subject's motion (m: it needs to
 * know which subject is first), flaws from the pixels, and the mismatches from the joint state (h).
 */
export const RATIONALE_PARTS: readonly { name: string; from: 't' | 'v' | 'm' | 'h'; groups: number }[] = [
  { name: 'asked', from: 't', groups: COMPARED_GROUPS },
  { name: 'seen', from: 'v', groups: COMPARED_GROUPS - 1 },
  { name: 'motion', from: 'm', groups: 1 },
  { name: 'flaws', from: 'v', groups: FLAW_KINDS.length },
  { name: 'mismatch', from: 'h', groups: MISMATCH_ATTRIBUTES.length },
];
if (RATIONALE_PARTS.reduce((n, p) => n + p.groups, 0) !== RATIONALE_GROUPS.length || COMPARED[COMPARED.length - 1]!.name !== 'motion') {
  throw new Error('critic rationale: RATIONALE_PARTS must cover the groups in order, with motion last among the compared ones');
}

/** A rationale as class indices per group; -1 = unknown (no training signal for that group). */
export type RationaleTarget = Int16Array;

// Phrase -> motion, over every subject kind (phrases name the locomotion: "walks", "rolls", ...).
const MOTION_OF_PHRASE = (() => {
  const map = new Map<string, Motion>();
  for (const kind of SUBJECT_KINDS) {
    for (const m of MOTIONS) {
      const phrase = motionPhrase(m, kind);
      const known = map.get(phrase);
      if (known !== undefined && known !== m) throw new Error(`critic rationale: phrase "${phrase}" names both ${known} and ${m}`);
      map.set(phrase, m);
    }
  }
  return map;
})();

/** What a rationale line says was seen: the text after "saw " (mismatches) or after ": " (matches). */
function observed(line: string): string {
  const saw = line.lastIndexOf(', saw ');
  return saw >= 0 ? line.slice(saw + 6) : line.slice(line.indexOf(': ') + 2);
}

/** What a rationale line says was asked: between "expected " and ", saw " (mismatches), or after ": " (matches). */
function expected(line: string): string {
  const value = line.slice(line.indexOf(': ') + 2);
  const saw = value.lastIndexOf(', saw ');
  return saw >= 0 && value.startsWith('expected ') ? value.slice(9, saw) : value;
}

function countClass(text: string): number {
  const n = text === 'one subject' ? 1 : Number.parseInt(text, 10);
  if (!Number.isFinite(n)) return -1;
  return n <= 0 ? 0 : n === 1 ? 1 : n === 2 ? 2 : 3;
}

function mismatchAttribute(line: string): (typeof MISMATCH_ATTRIBUTES)[number] | undefined {
  if (line.startsWith('the number of subjects')) return 'objects';
  if (/^the (first |second )?subject:/.test(line)) return 'subject';
  if (line.startsWith('the colour of')) return 'colour';
  if (line.startsWith('the size of')) return 'size';
  if (line.startsWith('what ')) return 'action';
  if (line.startsWith('where ')) return 'relation';
  if (line.startsWith('the scene')) return 'scene';
  if (line.startsWith('the style')) return 'style';
  if (line.startsWith('the speed')) return 'speed';
  return undefined;
}

function flawKind(text: string): (typeof FLAW_KINDS)[number] | undefined {
  if (text.includes('camera shakes')) return 'shake';
  if (text.includes('flickers')) return 'flicker';
  if (text.includes('vanishes')) return 'popping';
  if (text.includes('erratically')) return 'erratic';
  if (text.includes('blurry')) return 'blur';
  if (text.includes('grainy')) return 'noise';
  if (text.includes('deformed')) return 'deformed';
  if (text.includes('muddy')) return 'muddy colour';
  if (text.includes('stray blobs')) return 'artefacts';
  if (text.includes('background')) return 'background';
  return undefined;
}

/** How the annotators name the first subject in "what ... does" (as lib/world/assessment.ts does). */
function firstSubjectAbout(spec: PromptSpec): string {
  const s = spec.subjects[0]!;
  const sameKind = spec.subjects.length > 1 && spec.subjects.every((x) => x.kind === s.kind);
  return `what the ${sameKind ? `${s.color} ` : ''}${SUBJECTS[s.kind].noun} does`;
}

/** Parses an annotator rationale into the critic's attribute targets. */
export function rationaleTarget(spec: PromptSpec, r: Pick<Rationale, 'matched' | 'mismatched' | 'motionFlaws' | 'qualityFlaws'>): RationaleTarget {
  const target = new Int16Array(RATIONALE_SHAPE.groups).fill(-1);
  const set = (group: string, cls: string) => {
    const g = groupIndex.get(group)!;
    const c = RATIONALE_GROUPS[g]!.classes.indexOf(cls);
    if (c >= 0) target[g] = c;
  };
  const lines = [...r.matched, ...r.mismatched];
  const about = `${firstSubjectAbout(spec)}: `;
  for (const [block, read] of [['asked', expected], ['seen', observed]] as const) {
    for (const line of lines) {
      if (!line.startsWith('the number of subjects')) continue;
      const c = countClass(read(line));
      if (c >= 0) target[groupIndex.get(`${block}:objects`)!] = c;
    }
    // Colours: every colour a subject was asked in (seen in); the others are absent.
    for (const c of COLOURS) set(`${block}:colour:${c}`, 'no');
    for (const line of lines) {
      if (!line.startsWith('the colour of')) continue;
      const value = read(line);
      if ((COLOURS as readonly string[]).includes(value)) set(`${block}:colour:${value}`, 'yes');
    }
    const motionLine = lines.find((l) => l.startsWith(about));
    if (motionLine) {
      const value = read(motionLine);
      if (value === 'nothing') set(`${block}:motion`, 'nothing');
      else {
        const m = MOTION_OF_PHRASE.get(value);
        if (m) set(`${block}:motion`, m);
      }
    }
  }
  for (const a of MISMATCH_ATTRIBUTES) set(`mismatch:${a}`, 'no');
  for (const line of r.mismatched) {
    const a = mismatchAttribute(line);
    if (a) set(`mismatch:${a}`, 'yes');
  }
  for (const f of FLAW_KINDS) set(`flaw:${f}`, 'no');
  for (const text of [...r.motionFlaws, ...r.qualityFlaws]) {
    const f = flawKind(text);
    if (f) set(`flaw:${f}`, 'yes');
  }
  return target;
}

/** The rationale a path produced, read from its [G, C] one-hot (first hot class per group). */
export function rationaleClasses(oneHot: Float32Array, offset = 0): Int16Array {
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const out = new Int16Array(G);
  for (let g = 0; g < G; g++) {
    let best = 0;
    for (let c = 0; c < C; c++) {
      if (oneHot[offset + g * C + c]! > 0.5) {
        best = c;
        break;
      }
    }
    out[g] = best;
  }
  return out;
}

/** A rationale as [G, C] one-hot rows (unknown groups left all-zero). */
export function rationaleOneHot(classes: ArrayLike<number>, out = new Float32Array(RATIONALE_SIZE), offset = 0): Float32Array {
  const C = RATIONALE_SHAPE.classes;
  for (let g = 0; g < RATIONALE_SHAPE.groups; g++) {
    const c = classes[g]!;
    if (c >= 0) out[offset + g * C + c] = 1;
  }
  return out;
}

export interface RationaleSummary {
  asked: { objects: string; colours: string[]; motion: string };
  seen: { objects: string; colours: string[]; motion: string };
  mismatches: string[];
  motionFlaws: string[];
  qualityFlaws: string[];
  text: string;
}

const OBJECTS_TEXT: Record<string, string> = { none: 'no subject', one: 'one subject', two: 'two subjects', more: 'more than two subjects' };

/** Readable form of a predicted rationale (what the critic "said" before its verdict). */
export function summarizeRationale(classes: ArrayLike<number>): RationaleSummary {
  const value = (name: string) => {
    const g = groupIndex.get(name)!;
    return RATIONALE_GROUPS[g]!.classes[classes[g]!] ?? 'unknown';
  };
  const block = (b: 'asked' | 'seen') => ({
    objects: value(`${b}:objects`),
    colours: COLOURS.filter((c) => value(`${b}:colour:${c}`) === 'yes'),
    motion: value(`${b}:motion`),
  });
  const [asked, seen] = [block('asked'), block('seen')];
  const mismatches = MISMATCH_ATTRIBUTES.filter((a) => value(`mismatch:${a}`) === 'yes');
  const flaws = FLAW_KINDS.filter((f) => value(`flaw:${f}`) === 'yes');
  const motionFlaws = flaws.filter((f) => MOTION_FLAWS.includes(f));
  const qualityFlaws = flaws.filter((f) => !MOTION_FLAWS.includes(f));
  const describe = (x: typeof asked) =>
    `${OBJECTS_TEXT[x.objects] ?? x.objects}${x.colours.length ? ` (${x.colours.join(', ')})` : ''}, the first ${x.motion === 'nothing' ? 'absent' : x.motion.replace(/_/g, ' ')}`;
  const text = [
    `The prompt asks for ${describe(asked)}.`,
    `The video shows ${describe(seen)}.`,
    `Mismatches: ${mismatches.length ? mismatches.join(', ') : 'none'}.`,
    `Motion: ${motionFlaws.length ? motionFlaws.join(', ') : 'smooth'}.`,
    `Picture: ${qualityFlaws.length ? qualityFlaws.join(', ') : 'clean'}.`,
  ].join(' ');
  return { asked, seen, mismatches, motionFlaws, qualityFlaws, text };
}
