// Temporal coherence at the generator's tubelet boundaries. The autoencoder decodes each 4-frame
// tubelet on its own, so where its reconstruction of an object's position is off, the error changes
// between tubelets: the object jumps at frames 3->4, 7->8, 11->12 and glides elsewhere. A viewer
// sees that as jitter, and a flow-based benchmark counts it as motion. This measures it.
import type { Perception } from './perception';
import type { Video } from './spec';

export interface BoundaryChange {
  /** Mean object displacement (px, centre of the tracked sprite) across tubelet boundaries. */
  boundary: number;
  /** The same at every other frame transition. */
  elsewhere: number;
  /** boundary / elsewhere: 1 for coherent video. */
  ratio: number;
  /** Mean absolute pixel change (0-1 scale) across boundaries and elsewhere, and their ratio. */
  pixelBoundary: number;
  pixelElsewhere: number;
  pixelRatio: number;
  /** Object transitions measured (both frames seen). */
  transitions: number;
}

/** Frame change at tubelet boundaries (transition t -> t+1 with (t+1) % tubeletFrames == 0) against elsewhere. */
export function boundaryChange(items: readonly { video: Video; perception: Perception }[], tubeletFrames = 4): BoundaryChange {
  const move = { boundary: [0, 0], elsewhere: [0, 0] };
  const pixel = { boundary: [0, 0], elsewhere: [0, 0] };
  for (const { video, perception } of items) {
    const L = video.width * video.height * 3;
    for (let t = 0; t + 1 < video.frames; t++) {
      const side = (t + 1) % tubeletFrames === 0 ? 'boundary' : 'elsewhere';
      let diff = 0;
      for (let i = 0; i < L; i++) diff += Math.abs(video.data[(t + 1) * L + i]! - video.data[t * L + i]!);
      pixel[side][0]! += diff / L;
      pixel[side][1]! += 1;
      for (const o of perception.objects) {
        const a = o.detections[t];
        const b = o.detections[t + 1];
        if (!a || !b) continue;
        move[side][0]! += Math.hypot(b.cx - a.cx, b.cy - a.cy);
        move[side][1]! += 1;
      }
    }
  }
  const mean = (s: number[]) => (s[1] ? s[0]! / s[1] : Number.NaN);
  const boundary = mean(move.boundary);
  const elsewhere = mean(move.elsewhere);
  const pixelBoundary = mean(pixel.boundary);
  const pixelElsewhere = mean(pixel.elsewhere);
  return { boundary, elsewhere, ratio: boundary / elsewhere, pixelBoundary, pixelElsewhere, pixelRatio: pixelBoundary / pixelElsewhere, transitions: move.boundary[1]! + move.elsewhere[1]! };
}
