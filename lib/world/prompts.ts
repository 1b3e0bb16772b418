// The prompt construction pipeline (paper appendix F, scaled to this world): explicit target
// distributions over high-level categories, a difficulty schedule the config can shift, random
// instantiation from the pools, a filter that repairs or drops inconsistent combinations, and the
// text. Prompt i of a seed depends on (seed, i) alone, so prompts can be drawn lazily or in parallel.
import { deriveSeed, Rng, type Seed } from './rng';
import { cloneSpec, validateSpec, type Prompt, type PromptSpec, type SubjectSpec } from './spec';
import { layoutRegions, motionFits } from './trajectories';
import {
  ACTION_INFO,
  CATEGORIES,
  COLOUR_RGB,
  COLOURS,
  DIFFICULTIES,
  MIN_CONTRAST,
  RELATIONS,
  SCENE_INFO,
  SIZES,
  SPEEDS,
  SPEED_ADVERB,
  STYLES,
  STYLE_PHRASE,
  SUBJECTS,
  actionsOf,
  colourDistance,
  motionPhrase,
  NEON_GLOW,
  scenesOf,
  subjectsOf,
  type Category,
  type Colour,
  type Difficulty,
  type Relation,
  type SceneKind,
  type Size,
  type Speed,
  type Style,
} from './vocabulary';

// ---------------------------------------------------------------------------------------------
// Target distributions

export interface PromptWeights {
  category: Record<Category, number>;
  subjectCount: { single: number; multi: number };
  sceneKind: Record<SceneKind, number>;
  style: Record<Style, number>;
  speed: Record<Speed, number>;
  size: Record<Size, number>;
}
export type DifficultyWeights = Record<Difficulty, number>;

/** Linear drift from `start` to `end` over `rounds` rounds (a curriculum); weights alone are a fixed mix. */
export type DifficultySchedule = DifficultyWeights | { start: DifficultyWeights; end: DifficultyWeights; rounds: number };

/**
 * Defaults follow F.3: probability decreases from simple to difficult actions, realistic to
 * abstract scenes, single to multiple subjects; categories are roughly balanced.
 */
export const DEFAULT_WEIGHTS: Readonly<PromptWeights> = Object.freeze({
  category: { figure: 0.35, animal: 0.35, object: 0.3 },
  subjectCount: { single: 0.7, multi: 0.3 },
  sceneKind: { realistic: 0.8, abstract: 0.2 },
  style: { plain: 0.7, cartoon: 0.15, neon: 0.15 },
  speed: { normal: 0.6, slow: 0.2, fast: 0.2 },
  size: { small: 1 / 3, medium: 1 / 3, large: 1 / 3 },
});
export const DEFAULT_DIFFICULTY: Readonly<DifficultyWeights> = Object.freeze({ simple: 0.5, medium: 0.3, difficult: 0.2 });

const FACET_KEYS: { [F in keyof PromptWeights]: readonly string[] } = {
  category: CATEGORIES,
  subjectCount: ['single', 'multi'],
  sceneKind: ['realistic', 'abstract'],
  style: STYLES,
  speed: SPEEDS,
  size: SIZES,
};

function checkWeights(weights: Record<string, number>, keys: readonly string[], path: string): void {
  let total = 0;
  for (const [k, w] of Object.entries(weights)) {
    if (!keys.includes(k)) throw new Error(`${path}.${k}: unknown key (known: ${keys.join(', ')})`);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new Error(`${path}.${k}: weight must be a finite number >= 0, got ${JSON.stringify(w)}`);
    total += w;
  }
  if (!(total > 0)) throw new Error(`${path}: at least one weight must be positive`);
}

/** Defaults overridden facet by facet (a facet given replaces the default facet whole; missing keys weigh 0). */
export function resolveWeights(weights?: { [F in keyof PromptWeights]?: Partial<PromptWeights[F]> }): PromptWeights {
  const out = structuredClone(DEFAULT_WEIGHTS) as PromptWeights;
  for (const [facet, given] of Object.entries(weights ?? {})) {
    if (!(facet in FACET_KEYS)) throw new Error(`weights.${facet}: unknown facet (known: ${Object.keys(FACET_KEYS).join(', ')})`);
    if (given === undefined) continue;
    const keys = FACET_KEYS[facet as keyof PromptWeights];
    checkWeights(given as Record<string, number>, keys, `weights.${facet}`);
    (out as unknown as Record<string, Record<string, number>>)[facet] = Object.fromEntries(keys.map((k) => [k, (given as Record<string, number>)[k] ?? 0]));
  }
  return out;
}

/** The difficulty mix for a round (round 0 is the first). */
export function resolveDifficulty(schedule: DifficultySchedule | undefined, round = 0): DifficultyWeights {
  if (schedule === undefined) return { ...DEFAULT_DIFFICULTY };
  if ('start' in schedule) {
    checkWeights(schedule.start, DIFFICULTIES, 'difficultySchedule.start');
    checkWeights(schedule.end, DIFFICULTIES, 'difficultySchedule.end');
    if (!(schedule.rounds >= 1)) throw new Error(`difficultySchedule.rounds: expected >= 1, got ${schedule.rounds}`);
    const t = Math.min(1, Math.max(0, round / schedule.rounds));
    return Object.fromEntries(DIFFICULTIES.map((d) => [d, (schedule.start[d] ?? 0) * (1 - t) + (schedule.end[d] ?? 0) * t])) as DifficultyWeights;
  }
  checkWeights(schedule, DIFFICULTIES, 'difficultySchedule');
  return Object.fromEntries(DIFFICULTIES.map((d) => [d, schedule[d] ?? 0])) as DifficultyWeights;
}

// ---------------------------------------------------------------------------------------------
// Difficulty and category of a spec

const TIER: Record<Difficulty, number> = { simple: 0, medium: 1, difficult: 2 };

export function specDifficulty(spec: PromptSpec): Difficulty {
  return spec.subjects.map((s) => ACTION_INFO[s.action].difficulty).reduce((a, b) => (TIER[b] > TIER[a] ? b : a), 'simple' as Difficulty);
}

export function specCategory(spec: PromptSpec): Category {
  return SUBJECTS[spec.subjects[0]!.kind].category;
}

// ---------------------------------------------------------------------------------------------
// Filter: repair what can be repaired, drop the rest (F.2 and F.4)

export type FilterResult = { ok: true; spec: PromptSpec; repairs: string[] } | { ok: false; reason: string };

/** Can this colour be told apart from the scene, and its outline or halo from both? */
function contrasts(colour: Colour, spec: PromptSpec): boolean {
  const rgb = COLOUR_RGB[colour];
  const scene = SCENE_INFO[spec.scene];
  if (!scene.palette.every((c) => colourDistance(rgb, c) >= MIN_CONTRAST)) return false;
  if (spec.style === 'cartoon') return colourDistance(rgb, scene.ink) >= MIN_CONTRAST;
  if (spec.style === 'neon') {
    const halo = NEON_GLOW;
    return colourDistance(halo, rgb) >= MIN_CONTRAST / 2 && scene.palette.every((c) => colourDistance(halo, c) >= MIN_CONTRAST * 0.8);
  }
  return true;
}

function subjectName(s: SubjectSpec): string {
  return `${s.color} ${SUBJECTS[s.kind].noun}`;
}

/**
 * Makes a spec consistent, or says why it cannot be. Repairs, in order: two subjects of one colour
 * (recolour the second), a subject outside its habitat in a realistic scene (move to a scene that
 * suits every subject), an object doing a difficult motion in plain style (map it to cartoon, as
 * F.2 maps unrealistic pairs to stylised domains), a colour that blends into the scene (recolour),
 * a speed with nothing travelling (normal), a motion that does not fit its region (smaller sprite,
 * then slower speed). Category and difficulty are never changed, so sampled shares stay on target.
 */
export function filterSpec(input: PromptSpec, rng: Rng): FilterResult {
  const spec = cloneSpec(validateSpec(input));
  const repairs: string[] = [];
  const subjects = spec.subjects;

  const recolour = (i: number, why: string): boolean => {
    const taken = new Set(subjects.filter((_, j) => j !== i).map((s) => s.color));
    const options = COLOURS.filter((c) => !taken.has(c) && contrasts(c, spec));
    if (options.length === 0) return false;
    const before = subjectName(subjects[i]!);
    subjects[i]!.color = rng.pick(options);
    repairs.push(`${why}: ${before} -> ${subjects[i]!.color}`);
    return true;
  };

  if (subjects.length === 2 && subjects[0]!.color === subjects[1]!.color) {
    if (!recolour(1, 'two subjects share a colour')) return { ok: false, reason: 'no colour left to tell the subjects apart' };
  }

  if (SCENE_INFO[spec.scene].kind === 'realistic') {
    const fits = subjects.every((s) => SUBJECTS[s.kind].habitats.includes(spec.scene));
    if (!fits) {
      const common = scenesOf('realistic').filter((scene) => subjects.every((s) => SUBJECTS[s.kind].habitats.includes(scene)));
      if (common.length === 0) return { ok: false, reason: `no realistic scene suits ${subjects.map(subjectName).join(' and ')}` };
      const before = spec.scene;
      spec.scene = rng.pick(common);
      repairs.push(`${subjects.map((s) => SUBJECTS[s.kind].noun).join(' and ')} ${subjects.length > 1 ? 'do' : 'does'} not belong ${SCENE_INFO[before].phrase}: scene -> ${spec.scene}`);
    }
  }

  if (spec.style === 'plain' && subjects.some((s) => SUBJECTS[s.kind].category === 'object' && ACTION_INFO[s.action].difficulty === 'difficult')) {
    spec.style = 'cartoon';
    repairs.push('an inanimate object performing a complex motion: style -> cartoon');
  }

  for (let i = 0; i < subjects.length; i++) {
    if (!contrasts(subjects[i]!.color, spec) && !recolour(i, `blends into the ${spec.scene}`)) return { ok: false, reason: `no colour stands out ${SCENE_INFO[spec.scene].phrase}` };
  }

  if (spec.speed !== 'normal' && !subjects.some((s) => ACTION_INFO[s.action].translational)) {
    repairs.push(`"${SPEED_ADVERB[spec.speed]}" with nothing travelling: speed -> normal`);
    spec.speed = 'normal';
  }

  const regions = layoutRegions(spec, 32);
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[i]!;
    while (!motionFits(s, regions[i]!, spec.speed)) {
      const smaller = SIZES[SIZES.indexOf(s.size) - 1];
      const slower = SPEEDS[SPEEDS.indexOf(spec.speed) - 1];
      if (smaller) {
        repairs.push(`${subjectName(s)} has no room to ${s.action.replace(/_/g, ' ')}: size ${s.size} -> ${smaller}`);
        s.size = smaller;
      } else if (slower && ACTION_INFO[s.action].translational) {
        repairs.push(`${subjectName(s)} has no room to ${s.action.replace(/_/g, ' ')} ${SPEED_ADVERB[spec.speed] || 'at normal speed'}: speed -> ${slower}`);
        spec.speed = slower;
        i = -1; // a slower speed applies to every subject: check them all again
        break;
      } else {
        return { ok: false, reason: `no room for the ${subjectName(s)} to ${s.action.replace(/_/g, ' ')}${spec.relation ? ` ${spec.relation.type} the other subject` : ''}` };
      }
    }
  }
  return { ok: true, spec: validateSpec(spec), repairs };
}

// ---------------------------------------------------------------------------------------------
// Text (F.4's LLM expansion replaced by templates: the text is a function of the spec alone)

const RELATION_PHRASE: Record<Relation, string> = { 'left of': 'to the left of', 'right of': 'to the right of', above: 'above', below: 'below' };

function describe(s: SubjectSpec): string {
  return `${s.size} ${s.color} ${SUBJECTS[s.kind].noun}`;
}

function doing(s: SubjectSpec, speed: Speed): string {
  const adverb = ACTION_INFO[s.action].translational ? SPEED_ADVERB[speed] : '';
  return [adverb, motionPhrase(s.action, s.kind)].filter(Boolean).join(' ');
}

/** The prompt's text, e.g. "A small red cat quickly runs to the right in a forest." */
export function promptText(spec: PromptSpec): string {
  validateSpec(spec);
  const style = STYLE_PHRASE[spec.style] ? `, ${STYLE_PHRASE[spec.style]}` : '';
  const scene = SCENE_INFO[spec.scene].phrase;
  if (spec.subjects.length === 1 || !spec.relation) {
    const s = spec.subjects[0]!;
    return `A ${describe(s)} ${doing(s, spec.speed)} ${scene}${style}.`;
  }
  const a = spec.subjects[spec.relation.subject]!;
  const b = spec.subjects[spec.relation.object]!;
  // Name subjects by noun, or by colour and noun when both are the same kind.
  const ref = (s: SubjectSpec) => (a.kind === b.kind ? `${s.color} ${SUBJECTS[s.kind].noun}` : SUBJECTS[s.kind].noun);
  return `A ${describe(a)} is ${RELATION_PHRASE[spec.relation.type]} a ${describe(b)} ${scene}; the ${ref(a)} ${doing(a, spec.speed)} while the ${ref(b)} ${doing(b, spec.speed)}${style}.`;
}

// ---------------------------------------------------------------------------------------------
// Sampler

export interface SampleOptions {
  count: number;
  seed: Seed;
  weights?: { [F in keyof PromptWeights]?: Partial<PromptWeights[F]> };
  difficultySchedule?: DifficultySchedule;
  /** Round of the campaign, for a drifting difficulty schedule. */
  round?: number;
  /** Index of the first prompt (to continue a stream: prompts depend on (seed, index) only). */
  startIndex?: number;
}

const MAX_ATTEMPTS = 64;

function sampleSubject(rng: Rng, category: Category, difficulty: Difficulty, weights: PromptWeights): SubjectSpec {
  return {
    kind: rng.pick(subjectsOf(category)),
    color: rng.pick(COLOURS),
    size: rng.weighted(weights.size),
    action: rng.pick(actionsOf(difficulty)),
  };
}

/** The id of prompt `index` of a seed. */
export function promptId(seed: Seed, index: number): string {
  return `p${deriveSeed(seed, 'prompt-ids').toString(36)}-${index}`;
}

/** Draws prompt `index` of a seed under the given (resolved) targets. */
export function samplePrompt(seed: Seed, index: number, weights: PromptWeights, difficulty: DifficultyWeights): Prompt {
  const rng = new Rng(seed, 'prompt', index);
  // The cell (category, difficulty, single or multi, scene kind) is drawn once; only its contents
  // are redrawn when the filter drops a combination, so the cell shares match their targets.
  const category = rng.weighted(weights.category);
  const tier = rng.weighted(difficulty);
  const multi = rng.weighted(weights.subjectCount) === 'multi';
  const sceneKind = rng.weighted(weights.sceneKind);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const subjects = [sampleSubject(rng, category, tier, weights)];
    if (multi) {
      // The second subject's motion is at most as hard as the first's: the prompt's tier is the first's.
      const easier = DIFFICULTIES.filter((d) => TIER[d] <= TIER[tier]);
      subjects.push(sampleSubject(rng, rng.weighted(weights.category), rng.pick(easier), weights));
    }
    const spec: PromptSpec = { subjects, scene: rng.pick(scenesOf(sceneKind)), style: rng.weighted(weights.style), speed: rng.weighted(weights.speed) };
    if (multi) spec.relation = { type: rng.pick(RELATIONS), subject: 0, object: 1 };
    const result = filterSpec(spec, rng.fork('filter', attempt));
    if (result.ok) return { id: promptId(seed, index), text: promptText(result.spec), spec: result.spec, difficulty: specDifficulty(result.spec), category };
  }
  throw new Error(`samplePrompt: no consistent prompt in ${MAX_ATTEMPTS} attempts for cell ${category}/${tier}/${multi ? 'multi' : 'single'}/${sceneKind} (seed ${seed}, index ${index}): check the weights`);
}

/** Draws `count` prompts, deterministic under `seed`. */
export function samplePrompts(options: SampleOptions): Prompt[] {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) throw new Error(`samplePrompts: count must be an integer >= 0, got ${count}`);
  const weights = resolveWeights(options.weights);
  const difficulty = resolveDifficulty(options.difficultySchedule, options.round);
  const start = options.startIndex ?? 0;
  return Array.from({ length: count }, (_, k) => samplePrompt(seed, start + k, weights, difficulty));
}

// ---------------------------------------------------------------------------------------------
// Distribution summary (F.4: monitor empirical distributions against their targets)

export interface FacetShare {
  count: number;
  share: number;
  /** Target share, where the facet is sampled directly (so it can be compared). */
  target?: number;
  /** (share - target) in standard errors of a multinomial share. */
  z?: number;
}

export interface PromptSummary {
  count: number;
  distinctTexts: number;
  facets: Record<string, Record<string, FacetShare>>;
  /** Largest |z| over the facets with targets. */
  maxAbsZ: number;
}

export function summarizePrompts(prompts: readonly Prompt[], options: Pick<SampleOptions, 'weights' | 'difficultySchedule' | 'round'> = {}): PromptSummary {
  const weights = resolveWeights(options.weights);
  const difficulty = resolveDifficulty(options.difficultySchedule, options.round);
  const norm = (w: Record<string, number>) => {
    const total = Object.values(w).reduce((a, b) => a + b, 0);
    return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v / total]));
  };
  const facets: Record<string, { keys: readonly string[]; of: (p: Prompt) => string; target?: Record<string, number> }> = {
    category: { keys: CATEGORIES, of: (p) => p.category, target: norm(weights.category) },
    difficulty: { keys: DIFFICULTIES, of: (p) => p.difficulty, target: norm(difficulty) },
    subjects: { keys: ['single', 'multi'], of: (p) => (p.spec.subjects.length > 1 ? 'multi' : 'single'), target: norm(weights.subjectCount) },
    sceneKind: { keys: ['realistic', 'abstract'], of: (p) => SCENE_INFO[p.spec.scene].kind, target: norm(weights.sceneKind) },
    // Style and speed are reported after repairs (objects in complex motion become cartoons,
    // speeds without travel become normal), so they have no target to be held to.
    style: { keys: STYLES, of: (p) => p.spec.style },
    speed: { keys: SPEEDS, of: (p) => p.spec.speed },
  };
  const n = prompts.length;
  let maxAbsZ = 0;
  const out: PromptSummary['facets'] = {};
  for (const [name, facet] of Object.entries(facets)) {
    const counts = Object.fromEntries(facet.keys.map((k) => [k, 0]));
    for (const p of prompts) counts[facet.of(p)] = (counts[facet.of(p)] ?? 0) + 1;
    out[name] = Object.fromEntries(
      facet.keys.map((k) => {
        const share = n ? counts[k]! / n : 0;
        const entry: FacetShare = { count: counts[k]!, share };
        if (facet.target) {
          const target = facet.target[k] ?? 0;
          entry.target = target;
          const se = Math.sqrt((target * (1 - target)) / Math.max(1, n));
          entry.z = se > 0 ? (share - target) / se : share === target ? 0 : Infinity;
          maxAbsZ = Math.max(maxAbsZ, Math.abs(entry.z));
        }
        return [k, entry];
      }),
    );
  }
  return { count: n, distinctTexts: new Set(prompts.map((p) => p.text)).size, facets: out, maxAbsZ };
}

export function formatSummary(summary: PromptSummary): string {
  const lines = [`${summary.count} prompts, ${summary.distinctTexts} distinct texts; largest deviation from target ${summary.maxAbsZ.toFixed(2)} standard errors`];
  for (const [facet, shares] of Object.entries(summary.facets)) {
    lines.push(`${facet}:`);
    for (const [key, s] of Object.entries(shares)) {
      const target = s.target === undefined ? '' : `  target ${(100 * s.target).toFixed(1).padStart(5)}%  z ${s.z!.toFixed(2).padStart(6)}`;
      lines.push(`  ${key.padEnd(12)} ${String(s.count).padStart(7)}  ${(100 * s.share).toFixed(1).padStart(5)}%${target}`);
    }
  }
  return lines.join('\n');
}
