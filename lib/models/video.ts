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
