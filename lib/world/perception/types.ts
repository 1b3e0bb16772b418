// What perception reports: per video, per object, per sighting.
import type { MotionReading } from '../motion-classifier';
import type { Colour, Scene, Size, Style, SubjectKind } from '../vocabulary';

export interface Detection {
  frame: number;
  colour: Colour;
  /** Share of the region's coverage that the colour explains cleanly (1 for clean sprites). */
  purity: number;
  /** Coverage-weighted area in pixels. */
  area: number;
  /** Mean colour of the sprite's core pixels (coverage >= 0.5), as the frame shows it. */
  rgb: [number, number, number];
  cx: number;
  cy: number;
  /** Soft extents: sum over columns of the strongest coverage in the column (and rows). */
  width: number;
  height: number;
  /** Coverage of the sprite colour over a window (x0, y0, w, h). */
  patch: { x0: number; y0: number; w: number; h: number; alpha: Float32Array };
  /** Mean outline/halo strength over the sprite's border (0 = none, ~0.7 = a full 1 px band). */
  ink: number;
  halo: number;
}

export interface PerceivedObject {
  kind: SubjectKind;
  /** Soft IoU of the best template (1 = perfect sprite). */
  kindScore: number;
  /** Runner-up shape and its score (a small margin means an ambiguous, deformed sprite). */
  runnerUp: { kind: SubjectKind; score: number };
  colour: Colour;
  purity: number;
  size: Size;
  /** Largest extent at the start of the clip, in pixels. */
  sizePx: number;
  style: Style;
  /** Mean outline and halo evidence over the sightings (see Detection). */
  ink: number;
  halo: number;
  motion: MotionReading;
  /** Share of frames the object is seen in. */
  presence: number;
  present: boolean[];
  /** Path of the centre and size relative to the start (NaN where unseen). */
  x: number[];
  y: number[];
  scale: number[];
  /** Per frame: the style read on this object's border (undefined where unseen). */
  frameStyle: (Style | undefined)[];
  detections: (Detection | undefined)[];
}

export interface Perception {
  frames: number;
  size: number;
  scene: Scene;
  /** 1 when the plate fits the frames exactly, falling towards 0 as they differ. */
  sceneScore: number;
  frameScenes: Scene[];
  objects: PerceivedObject[];
  /** Style of the video: that of most objects (plain when there are none). */
  style: Style;
  frameStyles: Style[];
  temporal: {
    /** Per-frame brightness gain relative to the plate and camera shift in pixels. */
    gain: number[];
    shift: [number, number][];
    /** Mean absolute frame-to-frame change of gain (flicker) and of shift in pixels (shake). */
    flicker: number;
    shake: number;
    /** Share of frame transitions where the number of visible objects changes. */
    popping: number;
  };
  quality: {
    /** Estimated per-channel noise standard deviation. */
    noise: number;
    /** Blur (Gaussian sigma in pixels of a 32 px frame) that best explains the background. */
    blur: number;
    /** Sprite edges' softness relative to clean sprites (1 = crisp). */
    edgeSoftness: number;
    /** Spurious regions per frame (small blobs, short tracks, unexplained areas). */
    artefacts: number;
    /** Mean clipped distance between frames and the registered plate, sprites excluded. */
    backgroundError: number;
  };
}
