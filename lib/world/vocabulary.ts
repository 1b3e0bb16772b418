// The structured pools of the reference world (paper appendix F.2, scaled down): subjects in three
// high-level categories drawn as simple sprites, colours, sizes, actions in three difficulty tiers,
// spatial relations, realistic and abstract scenes, appearance styles and speeds (temporal style).
// Everything here is plain data: the renderer draws it, perception recognises it, prompts name it.

export const CATEGORIES = ['figure', 'animal', 'object'] as const;
export type Category = (typeof CATEGORIES)[number];

export const SUBJECT_KINDS = ['person', 'robot', 'snowman', 'cat', 'fish', 'bird', 'ball', 'box', 'kite', 'car', 'ring'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'white'] as const;
export type Colour = (typeof COLOURS)[number];

export const SIZES = ['small', 'medium', 'large'] as const;
export type Size = (typeof SIZES)[number];

export const DIFFICULTIES = ['simple', 'medium', 'difficult'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export const ACTIONS = [
  // simple: move or stay
  'stay',
  'move_left',
  'move_right',
  'move_up',
  'move_down',
  // medium: bounce, diagonal, grow or shrink
  'bounce',
  'move_up_right',
  'move_up_left',
  'move_down_right',
  'move_down_left',
  'grow',
  'shrink',
  // difficult: circle, zigzag, compound motions
  'circle',
  'zigzag',
  'back_and_forth',
  'hop_right',
  'right_then_down',
] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Motions perception can recognise that no prompt asks for: the mirror images of the difficult
 * ones and an upside-down bounce. "Wrong direction" corruptions and imperfect generators produce
 * them, and perception must name what it sees rather than force it onto a prompt's vocabulary.
 */
export const EXTRA_MOTIONS = ['circle_ccw', 'zigzag_left', 'back_and_forth_left', 'hop_left', 'left_then_down', 'bounce_inverted'] as const;
export type Motion = Action | (typeof EXTRA_MOTIONS)[number] | 'unknown';

export const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

export const SCENES = ['forest', 'desert', 'snowfield', 'city street', 'ocean', 'kitchen', 'neon dreamscape', 'checkerboard void', 'bubble void', 'pastel swirl'] as const;
export type Scene = (typeof SCENES)[number];
export type SceneKind = 'realistic' | 'abstract';

export const STYLES = ['plain', 'cartoon', 'neon'] as const;
export type Style = (typeof STYLES)[number];

export const SPEEDS = ['slow', 'normal', 'fast'] as const;
export type Speed = (typeof SPEEDS)[number];

export type Rgb = readonly [number, number, number];

// ---------------------------------------------------------------------------------------------
// Subjects

export interface SubjectInfo {
  category: Category;
  noun: string;
  /** Verb for moving about ("walks", "swims"): action phrases are built on it. */
  locomotion: string;
  /** Realistic scenes this subject belongs in; abstract scenes accept every subject. */
  habitats: readonly Scene[];
}

const LAND: readonly Scene[] = ['forest', 'desert', 'snowfield', 'city street', 'kitchen'];

export const SUBJECTS: Readonly<Record<SubjectKind, SubjectInfo>> = {
  person: { category: 'figure', noun: 'person', locomotion: 'walks', habitats: LAND },
  robot: { category: 'figure', noun: 'robot', locomotion: 'rolls', habitats: LAND },
  snowman: { category: 'figure', noun: 'snowman', locomotion: 'glides', habitats: ['forest', 'snowfield', 'city street'] },
  cat: { category: 'animal', noun: 'cat', locomotion: 'runs', habitats: LAND },
  fish: { category: 'animal', noun: 'fish', locomotion: 'swims', habitats: ['ocean'] },
  bird: { category: 'animal', noun: 'bird', locomotion: 'flies', habitats: ['forest', 'desert', 'snowfield', 'city street', 'ocean'] },
  ball: { category: 'object', noun: 'ball', locomotion: 'rolls', habitats: LAND },
  box: { category: 'object', noun: 'box', locomotion: 'slides', habitats: LAND },
  kite: { category: 'object', noun: 'kite', locomotion: 'floats', habitats: ['forest', 'desert', 'snowfield', 'city street', 'ocean'] },
  car: { category: 'object', noun: 'car', locomotion: 'drives', habitats: ['desert', 'snowfield', 'city street'] },
  ring: { category: 'object', noun: 'ring', locomotion: 'rolls', habitats: LAND },
};

export function subjectsOf(category: Category): SubjectKind[] {
  return SUBJECT_KINDS.filter((k) => SUBJECTS[k].category === category);
}

// ---------------------------------------------------------------------------------------------
// Colours: saturated sprite colours, far from each other and from the scenes' own colours.

export const COLOUR_RGB: Readonly<Record<Colour, Rgb>> = {
  red: [0.86, 0.12, 0.12],
  orange: [0.98, 0.55, 0.05],
  yellow: [0.97, 0.88, 0.12],
  green: [0.13, 0.72, 0.22],
  blue: [0.14, 0.32, 0.92],
  purple: [0.56, 0.2, 0.82],
  pink: [0.98, 0.5, 0.78],
  white: [0.97, 0.97, 0.97],
};

/**
 * Cartoon outlines are drawn in ink that shows on the scene: near black on light scenes, near white
 * on dark ones (see SceneInfo.ink). Neon halos are electric cyan whatever the sprite's colour: a halo
 * lifted from the sprite's own colour would be a mix of that colour and white, which perception could
 * not tell from a white outline.
 */
export const BLACK_INK: Rgb = [0.04, 0.04, 0.05];
export const WHITE_INK: Rgb = [0.97, 0.97, 0.97];
export const NEON_GLOW: Rgb = [0.25, 0.95, 1.0];

// ---------------------------------------------------------------------------------------------
// Sizes: the largest extent of a sprite, as a share of the frame side (7, 10 and 13 px at 32 px).

export const SIZE_FRACTION: Readonly<Record<Size, number>> = { small: 7 / 32, medium: 10 / 32, large: 13 / 32 };

// ---------------------------------------------------------------------------------------------
// Actions

export interface ActionInfo {
  difficulty: Difficulty;
  /** Does the subject travel (so that a speed adverb means something)? */
  translational: boolean;
  /** The motion a "wrong direction" shows instead: mirror image, reverse, or a different motion. */
  wrongDirection: Motion;
}

export const ACTION_INFO: Readonly<Record<Action, ActionInfo>> = {
  stay: { difficulty: 'simple', translational: false, wrongDirection: 'move_right' },
  move_left: { difficulty: 'simple', translational: true, wrongDirection: 'move_right' },
  move_right: { difficulty: 'simple', translational: true, wrongDirection: 'move_left' },
  move_up: { difficulty: 'simple', translational: true, wrongDirection: 'move_down' },
  move_down: { difficulty: 'simple', translational: true, wrongDirection: 'move_up' },
  bounce: { difficulty: 'medium', translational: false, wrongDirection: 'bounce_inverted' },
  move_up_right: { difficulty: 'medium', translational: true, wrongDirection: 'move_down_left' },
  move_up_left: { difficulty: 'medium', translational: true, wrongDirection: 'move_down_right' },
  move_down_right: { difficulty: 'medium', translational: true, wrongDirection: 'move_up_left' },
  move_down_left: { difficulty: 'medium', translational: true, wrongDirection: 'move_up_right' },
  grow: { difficulty: 'medium', translational: false, wrongDirection: 'shrink' },
  shrink: { difficulty: 'medium', translational: false, wrongDirection: 'grow' },
  circle: { difficulty: 'difficult', translational: false, wrongDirection: 'circle_ccw' },
  zigzag: { difficulty: 'difficult', translational: false, wrongDirection: 'zigzag_left' },
  back_and_forth: { difficulty: 'difficult', translational: false, wrongDirection: 'back_and_forth_left' },
  hop_right: { difficulty: 'difficult', translational: false, wrongDirection: 'hop_left' },
  right_then_down: { difficulty: 'difficult', translational: false, wrongDirection: 'left_then_down' },
};

export function actionsOf(difficulty: Difficulty): Action[] {
  return ACTIONS.filter((a) => ACTION_INFO[a].difficulty === difficulty);
}

/** Phrases for every motion perception can name (so rationales can say what they saw). */
export function motionPhrase(motion: Motion, kind: SubjectKind): string {
  const go = SUBJECTS[kind].locomotion;
  const jump = SUBJECTS[kind].category === 'figure' ? 'jumps' : SUBJECTS[kind].category === 'animal' ? 'hops' : 'bounces';
  switch (motion) {
    case 'stay':
      return SUBJECTS[kind].category === 'object' ? 'rests in place' : 'stays still';
    case 'move_left':
      return `${go} to the left`;
    case 'move_right':
      return `${go} to the right`;
    case 'move_up':
      return `${go} upward`;
    case 'move_down':
      return `${go} downward`;
    case 'bounce':
      return `${jump} up and down`;
    case 'bounce_inverted':
      return `${jump} upside down from the top`;
    case 'move_up_right':
      return `${go} diagonally up and to the right`;
    case 'move_up_left':
      return `${go} diagonally up and to the left`;
    case 'move_down_right':
      return `${go} diagonally down and to the right`;
    case 'move_down_left':
      return `${go} diagonally down and to the left`;
    case 'grow':
      return 'grows larger';
    case 'shrink':
      return 'shrinks';
    case 'circle':
      return `${go} in a clockwise circle`;
    case 'circle_ccw':
      return `${go} in a counter-clockwise circle`;
    case 'zigzag':
      return `${go} to the right in a zigzag`;
    case 'zigzag_left':
      return `${go} to the left in a zigzag`;
    case 'back_and_forth':
      return `${go} to the right and then back to the left`;
    case 'back_and_forth_left':
      return `${go} to the left and then back to the right`;
    case 'hop_right':
      return `${jump} along to the right`;
    case 'hop_left':
      return `${jump} along to the left`;
    case 'right_then_down':
      return `${go} to the right and then down`;
    case 'left_then_down':
      return `${go} to the left and then down`;
    case 'unknown':
      return 'moves erratically';
  }
}

// ---------------------------------------------------------------------------------------------
// Relations

export const RELATION_AXIS: Readonly<Record<Relation, 'horizontal' | 'vertical'>> = {
  'left of': 'horizontal',
  'right of': 'horizontal',
  above: 'vertical',
  below: 'vertical',
};

// ---------------------------------------------------------------------------------------------
// Scenes

export interface SceneInfo {
  kind: SceneKind;
  phrase: string;
  /** The colours the background is made of: sprite colours must stay clear of them. */
  palette: readonly Rgb[];
  /** Cartoon outline colour: whichever of black and white shows on this scene. */
  ink: Rgb;
}

export const SCENE_INFO: Readonly<Record<Scene, SceneInfo>> = {
  forest: { kind: 'realistic', phrase: 'in a forest', palette: [[0.1, 0.26, 0.12], [0.16, 0.38, 0.16], [0.3, 0.2, 0.1]], ink: WHITE_INK },
  desert: { kind: 'realistic', phrase: 'in the desert', palette: [[0.78, 0.86, 0.95], [0.86, 0.74, 0.48], [0.76, 0.62, 0.38]], ink: BLACK_INK },
  snowfield: { kind: 'realistic', phrase: 'on a snowfield', palette: [[0.7, 0.78, 0.88], [0.93, 0.94, 0.97]], ink: BLACK_INK },
  'city street': { kind: 'realistic', phrase: 'on a city street', palette: [[0.55, 0.62, 0.72], [0.28, 0.28, 0.32], [0.4, 0.4, 0.42]], ink: BLACK_INK },
  ocean: { kind: 'realistic', phrase: 'in the ocean', palette: [[0.05, 0.22, 0.45], [0.03, 0.12, 0.3], [0.1, 0.32, 0.55]], ink: WHITE_INK },
  kitchen: { kind: 'realistic', phrase: 'in a kitchen', palette: [[0.82, 0.74, 0.6], [0.55, 0.45, 0.35], [0.62, 0.52, 0.4]], ink: BLACK_INK },
  'neon dreamscape': { kind: 'abstract', phrase: 'in a neon dreamscape', palette: [[0.3, 0.05, 0.35], [0.15, 0.02, 0.25]], ink: WHITE_INK },
  'checkerboard void': { kind: 'abstract', phrase: 'in a checkerboard void', palette: [[0.12, 0.12, 0.12], [0.22, 0.22, 0.22]], ink: WHITE_INK },
  'bubble void': { kind: 'abstract', phrase: 'in a bubble void', palette: [[0.04, 0.16, 0.2], [0.3, 0.5, 0.55]], ink: WHITE_INK },
  'pastel swirl': { kind: 'abstract', phrase: 'in a pastel swirl', palette: [[0.75, 0.93, 0.9], [0.93, 0.8, 0.9]], ink: BLACK_INK },
};

export function scenesOf(kind: SceneKind): Scene[] {
  return SCENES.filter((s) => SCENE_INFO[s].kind === kind);
}

// ---------------------------------------------------------------------------------------------
// Styles and speeds

export const STYLE_PHRASE: Readonly<Record<Style, string>> = { plain: '', cartoon: 'in cartoon style', neon: 'with a neon glow' };

/** Distance travelled over the clip, as a share of the frame side (5.4, 10 and 16 px at 32 px). */
export const SPEED_TRAVEL: Readonly<Record<Speed, number>> = { slow: 0.17, normal: 0.32, fast: 0.5 };
/** Where perception draws the line between speeds (share of the frame side per clip). */
export const SPEED_BOUNDS = { slowNormal: 0.24, normalFast: 0.4 } as const;
export const SPEED_ADVERB: Readonly<Record<Speed, string>> = { slow: 'slowly', normal: '', fast: 'quickly' };

export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Sprite colours closer than this to a scene colour would blend into it (the filter repairs them). */
export const MIN_CONTRAST = 0.3;
