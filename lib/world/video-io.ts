// Videos on disk: the raw tensors in a small binary format (below), and an animated GIF beside them
// that anyone can open. Files are written atomically (a temporary name, then a rename), so a reader
// never sees half a file.
//
// Raw format (".dipv"), little-endian:
//   bytes 0-3   "DIPV"
//   bytes 4-7   uint32: byte length L of the header
//   bytes 8-8+L UTF-8 JSON header, space-padded so the data starts on a 4-byte boundary:
//               { "version": 1, "dtype": "float32" | "uint8", "layout": "NTHWC",
//                 "shape": [N, T, H, W, 3], "ids": [N strings]?, "meta": {...}? }
//   then        N*T*H*W*3 values: float32 as is, or uint8 = round(255 * clamp(v, 0, 1)).
import gifenc from 'gifenc';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { FPS } from './render';
import { validateVideo, type Video } from './spec';

const MAGIC = 'DIPV';
/** Float32Array shares the host's byte order: on little-endian hosts (all common ones) bytes copy straight. */
const LITTLE_ENDIAN = endianness() === 'LE';
export const VIDEO_EXTENSION = '.dipv';

export interface VideoFileHeader {
  version: 1;
  dtype: 'float32' | 'uint8';
  layout: 'NTHWC';
  shape: [number, number, number, number, 3];
  ids?: string[];
  meta?: Record<string, unknown>;
}

export interface EncodeOptions {
  /** float32 keeps values exactly (default); uint8 is 4x smaller. */
  dtype?: 'float32' | 'uint8';
  /** One id per video (e.g. prompt ids), so a reader can pair videos with prompts. */
  ids?: string[];
  meta?: Record<string, unknown>;
}

/** Encodes one or more videos of one shape into the raw format. */
export function encodeVideos(videos: Video[], options: EncodeOptions = {}): Buffer {
  if (videos.length === 0) throw new Error('encodeVideos: no video');
  const first = validateVideo(videos[0]!, 'videos[0]');
  videos.forEach((v, i) => {
    validateVideo(v, `videos[${i}]`);
    if (v.frames !== first.frames || v.height !== first.height || v.width !== first.width) throw new Error(`videos[${i}]: shape ${v.frames}x${v.height}x${v.width} differs from videos[0] ${first.frames}x${first.height}x${first.width}`);
  });
  if (options.ids && options.ids.length !== videos.length) throw new Error(`encodeVideos: ${options.ids.length} ids for ${videos.length} videos`);
  const dtype = options.dtype ?? 'float32';
  const header: VideoFileHeader = { version: 1, dtype, layout: 'NTHWC', shape: [videos.length, first.frames, first.height, first.width, 3], ...(options.ids ? { ids: options.ids } : {}), ...(options.meta ? { meta: options.meta } : {}) };
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 4) json += ' ';
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.write(MAGIC, 0, 'ascii');
  head.writeUInt32LE(Buffer.byteLength(json), 4);
  head.write(json, 8, 'utf8');
  const per = first.data.length;
  const body = Buffer.alloc(videos.length * per * (dtype === 'float32' ? 4 : 1));
  videos.forEach((v, n) => {
    if (dtype === 'float32' && LITTLE_ENDIAN) body.set(new Uint8Array(v.data.buffer, v.data.byteOffset, per * 4), n * per * 4);
    else if (dtype === 'float32') for (let i = 0; i < per; i++) body.writeFloatLE(v.data[i]!, (n * per + i) * 4);
    else for (let i = 0; i < per; i++) body[n * per + i] = Math.round(255 * Math.min(1, Math.max(0, v.data[i]! || 0)));
  });
  return Buffer.concat([head, body]);
}

export function decodeVideos(buffer: Buffer | Uint8Array): { videos: Video[]; header: VideoFileHeader } {
  const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buf.length < 8 || buf.toString('ascii', 0, 4) !== MAGIC) throw new Error('not a DIPV video file (bad magic)');
  const length = buf.readUInt32LE(4);
  let header: VideoFileHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + length)) as VideoFileHeader;
  } catch (err) {
    throw new Error(`DIPV header is not JSON: ${(err as Error).message}`);
  }
  if (header.version !== 1) throw new Error(`DIPV version ${header.version} is not supported (expected 1)`);
  const [N, T, H, W, C] = header.shape;
  if (C !== 3 || ![N, T, H, W].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`DIPV shape ${JSON.stringify(header.shape)} is not [N, T, H, W, 3]`);
  const per = T * H * W * 3;
  const width = header.dtype === 'float32' ? 4 : 1;
  const start = 8 + length;
  if (buf.length !== start + N * per * width) throw new Error(`DIPV body holds ${buf.length - start} bytes, expected ${N * per * width}`);
  const videos = Array.from({ length: N }, (_, n) => {
    const data = new Float32Array(per);
    if (header.dtype === 'float32' && LITTLE_ENDIAN) new Uint8Array(data.buffer).set(buf.subarray(start + n * per * 4, start + (n + 1) * per * 4));
    else if (header.dtype === 'float32') for (let i = 0; i < per; i++) data[i] = buf.readFloatLE(start + (n * per + i) * 4);
    else for (let i = 0; i < per; i++) data[i] = buf[start + n * per + i]! / 255;
    return { frames: T, height: H, width: W, data };
  });
  return { videos, header };
}

/** Writes `data` to `path` atomically: a temporary file in the same folder, then a rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

export async function writeVideoFile(path: string, videos: Video | Video[], options: EncodeOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeVideos(Array.isArray(videos) ? videos : [videos], options));
}

export async function readVideoFile(path: string): Promise<{ videos: Video[]; header: VideoFileHeader }> {
  try {
    return decodeVideos(await readFile(path));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

export interface GifOptions {
  /** Nearest-neighbour upscaling so small frames can be seen (default 4). */
  scale?: number;
  fps?: number;
}

/** An animated GIF of a video (one palette for all frames, so colours do not shimmer). */
export function encodeGif(video: Video, options: GifOptions = {}): Uint8Array {
  validateVideo(video);
  const scale = options.scale ?? 4;
  const delay = Math.round(1000 / (options.fps ?? FPS));
  const { frames, height: H, width: W } = video;
  const rgba = new Uint8Array(frames * H * W * 4);
  for (let i = 0; i < frames * H * W; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(255 * Math.min(1, Math.max(0, video.data[i * 3 + c]! || 0)));
    rgba[i * 4 + 3] = 255;
  }
  const palette = gifenc.quantize(rgba, 256);
  const gif = gifenc.GIFEncoder();
  const big = new Uint8Array(H * scale * W * scale);
  for (let t = 0; t < frames; t++) {
    const index = gifenc.applyPalette(rgba.subarray(t * H * W * 4, (t + 1) * H * W * 4), palette);
    for (let y = 0; y < H * scale; y++) {
      const row = Math.floor(y / scale) * W;
      for (let x = 0; x < W * scale; x++) big[y * W * scale + x] = index[row + Math.floor(x / scale)]!;
    }
    gif.writeFrame(big, W * scale, H * scale, { palette, delay, ...(t === 0 ? { repeat: 0 } : {}) });
  }
  gif.finish();
  return gif.bytes();
}

export async function writeGif(path: string, video: Video, options: GifOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeGif(video, options));
}

/** Writes `<base>.dipv` (raw) and `<base>.gif` (to look at) for one video. */
export async function writeVideoWithPreview(base: string, video: Video, options: EncodeOptions & GifOptions & { id?: string } = {}): Promise<{ raw: string; gif: string }> {
  const raw = `${base}${VIDEO_EXTENSION}`;
  const gif = `${base}.gif`;
  await writeVideoFile(raw, video, { ...options, ...(options.id ? { ids: [options.id] } : {}) });
  await writeGif(gif, video, options);
  return { raw, gif };
}
