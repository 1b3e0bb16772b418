// Checkpoints: a small self-describing file format for model weights.
//
//   bytes 0-7   magic "DIPOCKPT"
//   bytes 8-11  header length H (uint32, little-endian)
//   12 .. 12+H  header, UTF-8 JSON: {format, version, kind, config, meta, tensors: [{name, shape,
//               dtype, offset, length}], bodySha256}
//   padding to a multiple of 4, then the body: every tensor as float32 little-endian at its offset
//
// The artifact store already verifies the sha256 of the whole file; the header carries the body's
// own sha256 too, so a file read from anywhere else (a copy, a scratch dir) is verified as well.
// Every check names the file and the field that failed: corrupt or mismatched weights must never
// load silently.
import { createHash } from 'node:crypto';
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import { checkParams, sizeOf, type ParamSet, type ParamShapes } from './nn/params';

const MAGIC = 'DIPOCKPT';
export const CHECKPOINT_FORMAT = 'dual-ipo/checkpoint';
export const CHECKPOINT_VERSION = 1;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
  /** A corrupt checkpoint does not get better by retrying. */
  readonly nonRetryable = true;
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset in the body. */
  offset: number;
  /** Number of values. */
  length: number;
}

export interface CheckpointHeader<C = unknown> {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  kind: string;
  config: C;
  meta: Record<string, unknown>;
  tensors: TensorEntry[];
  bodySha256: string;
}

export interface Checkpoint<C = unknown> {
  kind: string;
  config: C;
  meta: Record<string, unknown>;
  params: ParamSet;
}

export function encodeCheckpoint<C>(ckpt: Checkpoint<C>): Uint8Array {
  const names = Object.keys(ckpt.params).sort();
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const name of names) {
    const p = ckpt.params[name]!;
    tensors.push({ name, shape: [...p.shape], dtype: 'float32', offset, length: p.data.length });
    offset += p.data.length * 4;
  }
  const body = new Uint8Array(offset);
  for (const t of tensors) {
    const d = ckpt.params[t.name]!.data;
    body.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), t.offset);
  }
  const header: CheckpointHeader<C> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: ckpt.kind,
    config: ckpt.config,
    meta: ckpt.meta,
    tensors,
    bodySha256: createHash('sha256').update(body).digest('hex'),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = align4(12 + headerBytes.length);
  const out = new Uint8Array(bodyStart + body.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.fill(0x20, 12 + headerBytes.length, bodyStart); // spaces: the header stays valid JSON text
  out.set(body, bodyStart);
  return out;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Parses and verifies a checkpoint. `file` names it in errors; `expectKind` and `shapesFor` (the
 * parameter shapes its config implies) check that it is the model the caller thinks it is.
 */
export function decodeCheckpoint<C>(bytes: Uint8Array, file: string, expect: { kind?: string; shapesFor?: (config: C) => ParamShapes } = {}): Checkpoint<C> {
  const fail = (field: string, why: string) => new CheckpointError(`checkpoint ${file}: ${field}: ${why}`);
  if (bytes.length < 12) throw fail('file', `too short (${bytes.length} bytes) to be a dual-ipo checkpoint`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) throw fail('magic', `expected "${MAGIC}", got ${JSON.stringify(magic)} (not a dual-ipo checkpoint)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw fail('header length', `${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  let header: CheckpointHeader<C>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength))) as CheckpointHeader<C>;
  } catch (err) {
    throw fail('header', `not valid JSON (${(err as Error).message})`);
  }
  if (header.format !== CHECKPOINT_FORMAT) throw fail('header.format', `expected "${CHECKPOINT_FORMAT}", got ${JSON.stringify(header.format)}`);
  if (header.version !== CHECKPOINT_VERSION) throw fail('header.version', `unsupported version ${JSON.stringify(header.version)} (this code reads ${CHECKPOINT_VERSION})`);
  if (expect.kind && header.kind !== expect.kind) throw fail('header.kind', `expected a "${expect.kind}" checkpoint, got "${header.kind}"`);
  if (!Array.isArray(header.tensors)) throw fail('header.tensors', 'missing');
  const bodyStart = align4(12 + headerLength);
  const body = bytes.subarray(bodyStart);
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== header.bodySha256) throw fail('bodySha256', `weights are corrupt (sha256 ${actual.slice(0, 12)}… does not match the header's ${String(header.bodySha256).slice(0, 12)}…)`);

  const params: ParamSet = {};
  for (const [i, t] of header.tensors.entries()) {
    const where = `header.tensors[${i}] ("${t.name}")`;
    if (t.dtype !== 'float32') throw fail(where, `unsupported dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw fail(`${where}.shape`, `invalid shape ${JSON.stringify(t.shape)}`);
    if (sizeOf(t.shape) !== t.length) throw fail(`${where}.length`, `${t.length} values do not fill shape [${t.shape.join(', ')}]`);
    if (!Number.isInteger(t.offset) || t.offset % 4 !== 0 || t.offset < 0 || t.offset + t.length * 4 > body.length) {
      throw fail(`${where}.offset`, `bytes ${t.offset}..${t.offset + t.length * 4} fall outside the body (${body.length} bytes)`);
    }
    // Copy into an aligned buffer: the body's offset in the file need not suit a Float32Array view.
    const data = new Float32Array(t.length);
    new Uint8Array(data.buffer).set(body.subarray(t.offset, t.offset + t.length * 4));
    params[t.name] = { shape: t.shape, data };
  }
  if (expect.shapesFor) {
    try {
      checkParams(params, expect.shapesFor(header.config), `checkpoint ${file}`);
    } catch (err) {
      throw new CheckpointError((err as Error).message);
    }
  }
  return { kind: header.kind, config: header.config, meta: header.meta ?? {}, params };
}

export async function saveCheckpoint<C>(store: ArtifactStore, key: string, ckpt: Checkpoint<C>, summary: ArtifactRef['summary'] = {}): Promise<ArtifactRef> {
  return store.put(key, encodeCheckpoint(ckpt), { summary: { kind: ckpt.kind, ...summary } });
}

export async function loadCheckpoint<C>(store: ArtifactStore, ref: ArtifactRef, expect: { kind?: string; shapesFor?: (config: C) => ParamShapes } = {}): Promise<Checkpoint<C>> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(ref);
  } catch (err) {
    const e = err as Error;
    throw new CheckpointError(`checkpoint ${ref.uri}: ${e.name === 'ArtifactIntegrityError' ? 'file is corrupt' : 'cannot be read'} (${e.message})`);
  }
  return decodeCheckpoint<C>(bytes, ref.uri, expect);
}
