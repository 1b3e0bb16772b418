// One interface for artifact stores; local filesystem by default, S3 for clusters.
import type { ArtifactRef } from './types';

export interface PutOptions {
  summary?: ArtifactRef['summary'];
}

export interface S3Options {
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  partSize?: number;
}

export interface ArtifactStore {
  /** file:///abs/root or s3://bucket/prefix, without a trailing slash */
  readonly root: string;
  uriFor(key: string): string;
  /** Atomic: readers see the whole object or nothing. */
  put(key: string, data: Uint8Array | string, opts?: PutOptions): Promise<ArtifactRef>;
  putFile(key: string, localPath: string, opts?: PutOptions): Promise<ArtifactRef>;
  putJson(key: string, value: unknown, opts?: PutOptions): Promise<ArtifactRef>;
  /** Verifies size and sha256. */
  get(ref: ArtifactRef): Promise<Uint8Array>;
  getJson<T>(ref: ArtifactRef): Promise<T>;
  getToFile(ref: ArtifactRef, localPath: string): Promise<void>;
  /**
   * The reference of a finished, intact object, or undefined: callers take a defined answer as
   * "this output exists, need not be produced again". The local store re-hashes a data file that
   * changed after it was published (same-size in-place writes included). S3 objects cannot be edited
   * in place: any write replaces the object and its sha256 metadata together, so S3 trusts the metadata.
   */
  head(key: string): Promise<ArtifactRef | undefined>;
  exists(key: string): Promise<boolean>;
  /** Keys of finished objects under a prefix. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** Removes leftovers of interrupted writes older than the given age. */
  cleanupTemp(olderThanMs: number): Promise<number>;
  /** Converts one of this store's URIs back to its key; throws if the URI is outside the root. */
  keyOf(uri: string): string;
}

export class InvalidArtifactKeyError extends Error {
  override name = 'InvalidArtifactKeyError';
  readonly nonRetryable = true;
}
export class ArtifactNotFoundError extends Error {
  override name = 'ArtifactNotFoundError';
}
export class ArtifactIntegrityError extends Error {
  override name = 'ArtifactIntegrityError';
  readonly nonRetryable = true;
}

/**
 * Any other failure of a store operation, naming the store, the operation and its key (or URI):
 * `artifact store s3://bucket/prefix: put campaigns/x/round-0000/sample/result.json: <cause>`.
 * Non-retryable when the cause cannot go away by itself (missing or refused credentials).
 */
export class ArtifactStoreError extends Error {
  override name = 'ArtifactStoreError';
  readonly nonRetryable: boolean;
  constructor(
    readonly store: string,
    readonly operation: string,
    readonly target: string | undefined,
    cause: unknown,
    options: { nonRetryable?: boolean; hint?: string } = {},
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`artifact store ${store}: ${operation}${target ? ` ${target}` : ''}: ${why}${options.hint ? `. ${options.hint}` : ''}`, { cause });
    this.nonRetryable = options.nonRetryable ?? (cause as { nonRetryable?: boolean } | undefined)?.nonRetryable === true;
  }
}

export const SIDECAR_SUFFIX = '.sha256';
export const TEMP_MARKER = '.tmp-';

/** Keys are relative POSIX paths that stay inside the root. */
export function validateKey(key: string): string {
  const bad = (why: string) => new InvalidArtifactKeyError(`artifact key "${key}" is refused: ${why}`);
  if (typeof key !== 'string' || key.length === 0) throw bad('empty');
  if (key.includes('\0')) throw bad('contains NUL');
  if (key.includes('\\')) throw bad('contains a backslash');
  if (key.startsWith('/')) throw bad('absolute');
  const segments = key.split('/');
  if (segments.some((s) => s === '')) throw bad('empty path segment');
  if (segments.some((s) => s === '..' || s === '.')) throw bad('"." or ".." segment escapes the root');
  if (key.endsWith(SIDECAR_SUFFIX) || key.includes(TEMP_MARKER)) throw bad(`reserved suffix (${SIDECAR_SUFFIX}, ${TEMP_MARKER})`);
  return key;
}
