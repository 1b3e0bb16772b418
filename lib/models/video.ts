// Video layout for the models. Videos are [T, H, W, 3] float32 in [0, 1] (lib/world's Video). The
// autoencoder works on tubelets: non-overlapping blocks of `tubeletFrames` frames x `patch` x `patch`
// pixels, the same space-time compression CogVideoX's 3D VAE applies with strided convolutions
// (4 frames x 8 x 8 pixels). Cutting a video into tubelets is a pure reordering, done in plain JS.
import type { Video } from '../world';

export interface TubeletLayout {
  frames: number;
  size: number;
  tubeletFrames: number;
  patch: number;
}

export function tubeletCount(l: TubeletLayout): number {
  return (l.frames / l.tubeletFrames) * (l.size / l.patch) ** 2;
}

export function tubeletSize(l: TubeletLayout): number {
  return l.tubeletFrames * l.patch * l.patch * 3;
}

export function checkLayout(l: TubeletLayout): void {
  if (l.frames % l.tubeletFrames || l.size % l.patch) throw new Error(`video layout: ${l.frames} frames x ${l.size}px do not split into ${l.tubeletFrames}-frame x ${l.patch}px tubelets`);
}

/**
 * Writes the tubelets of one video at `out[offset..]`, tubelet-major: tubelet index =
 * (timeBlock, row, column), and inside a tubelet (frame, y, x, channel).
 */
export function toTubelets(video: Float32Array, l: TubeletLayout, out: Float32Array, offset = 0): void {
  const { size: S, tubeletFrames: TP, patch: P } = l;
  const blocks = S / P;
  let k = offset;
  for (let a = 0; a < l.frames / TP; a++) {
    for (let b = 0; b < blocks; b++) {
      for (let c = 0; c < blocks; c++) {
        for (let t = 0; t < TP; t++) {
          for (let y = 0; y < P; y++) {
            const row = ((a * TP + t) * S + b * P + y) * S + c * P;
            for (let x = 0; x < P; x++) {
              const o = (row + x) * 3;
              out[k++] = video[o]!;
              out[k++] = video[o + 1]!;
              out[k++] = video[o + 2]!;
            }
          }
        }
      }
    }
  }
}

/** The inverse of toTubelets: one video from its tubelets at `data[offset..]`. */
export function fromTubelets(data: Float32Array, l: TubeletLayout, offset = 0): Video {
  const { size: S, tubeletFrames: TP, patch: P } = l;
  const blocks = S / P;
  const video = new Float32Array(l.frames * S * S * 3);
  let k = offset;
  for (let a = 0; a < l.frames / TP; a++) {
    for (let b = 0; b < blocks; b++) {
      for (let c = 0; c < blocks; c++) {
        for (let t = 0; t < TP; t++) {
          for (let y = 0; y < P; y++) {
            const row = ((a * TP + t) * S + b * P + y) * S + c * P;
            for (let x = 0; x < P; x++) {
              const o = (row + x) * 3;
              video[o] = data[k++]!;
              video[o + 1] = data[k++]!;
              video[o + 2] = data[k++]!;
            }
          }
        }
      }
    }
  }
  return { frames: l.frames, height: S, width: S, data: video };
}

/** Videos as the world stores them compactly: uint8 = round(255 clamp(v)). */
export function quantize(video: Float32Array): Uint8Array {
  const out = new Uint8Array(video.length);
  for (let i = 0; i < video.length; i++) {
    const v = video[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

export function dequantize(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

/**
 * The decoder's video from its tubelets: each tubelet's frames averaged into one keyframe, keyframes
 * placed evenly over the clip (tubelet k of K at frame k (T-1)/(K-1)) and frames in between
 * cross-faded. The autoencoder's 8 numbers per tubelet hold where a subject is over the tubelet's 4
 * frames, not how it moves within them (reconstructions of rendered videos moved 0.21 px per frame
 * inside a tubelet and 2.2 px across a boundary, where the renders move 0.6-0.7 px everywhere), so
 * decoded as is, a subject stands still and jumps at frames 3->4, 7->8, 11->12. Interpolating the
 * keyframes spreads that motion over every frame; the clip's travel is unchanged (first to last
 * keyframe, as before), and fading between two nearby positions of a sprite moves its centre smoothly.
 */
export function decodedVideo(data: Float32Array, l: TubeletLayout, offset = 0): Video {
  const raw = fromTubelets(data, l, offset);
  const K = l.frames / l.tubeletFrames;
  if (K < 2) return raw;
  const F = raw.height * raw.width * 3;
  const keys = Array.from({ length: K }, (_, k) => {
    const key = new Float32Array(F);
    for (let t = k * l.tubeletFrames; t < (k + 1) * l.tubeletFrames; t++) {
      const frame = raw.data.subarray(t * F, (t + 1) * F);
      for (let i = 0; i < F; i++) key[i]! += frame[i]! / l.tubeletFrames;
    }
    return key;
  });
  const out = new Float32Array(raw.data.length);
  for (let t = 0; t < l.frames; t++) {
    const s = (t * (K - 1)) / (l.frames - 1);
    const k = Math.min(K - 2, Math.floor(s));
    const w = s - k;
    const a = keys[k]!;
    const b = keys[k + 1]!;
    for (let i = 0; i < F; i++) out[t * F + i] = (1 - w) * a[i]! + w * b[i]!;
  }
  return { ...raw, data: out };
}
