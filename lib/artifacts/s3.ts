// S3 (or S3-compatible) store. Publishing is atomic by S3's own semantics: a multipart upload is
// invisible until completed. The sha256 rides in the object's metadata; an object without it was
// not written by us and does not count as finished.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactRef } from './types';
import {
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  InvalidArtifactKeyError,
  TEMP_MARKER,
  validateKey,
  type ArtifactStore,
  type PutOptions,
  type S3Options,
} from './store';
import { stableStringify } from './stable-json';
import { nameStoreInErrors } from './store-errors';

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** A list prefix must be the start of a valid key: no "..", absolute, backslash or NUL parts. */
function checkPrefix(prefix: string): void {
  if (!prefix) return;
  try {
    validateKey(`${prefix}_`);
  } catch (err) {
    throw new InvalidArtifactKeyError(`artifact prefix "${prefix}" is refused: it is not the start of a valid key (${(err as Error).message})`);
  }
}

function isValidKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch {
    return false;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number;

  constructor(rootUri: string, options: S3Options = {}) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(rootUri);
    if (!match) throw new InvalidArtifactKeyError(`"${rootUri}" is not an s3://bucket/prefix URI`);
    this.bucket = match[1]!;
    this.prefix = match[2]!.replace(/\/+$/, '');
    this.root = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    nameStoreInErrors(this);
  }

  private objectKey(key: string): string {
    validateKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  uriFor(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  keyOf(uri: string): string {
    const base = `${this.root}/`;
    if (!uri.startsWith(base)) throw new InvalidArtifactKeyError(`${uri} is outside the store root ${this.root}`);
    return validateKey(uri.slice(base.length));
  }

  private async upload(key: string, body: Uint8Array | Readable, sha256: string, opts?: PutOptions): Promise<void> {
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        Metadata: { sha256, ...(opts?.summary ? { summary: encodeURIComponent(JSON.stringify(opts.summary)) } : {}) },
      },
    });
    await upload.done();
  }

  async put(key: string, data: Uint8Array | string, opts?: PutOptions): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await this.upload(key, bytes, sha256, opts);
    return { uri: this.uriFor(key), sha256, size: bytes.byteLength, ...(opts?.summary ? { summary: opts.summary } : {}) };
  }

  async putJson(key: string, value: unknown, opts?: PutOptions): Promise<ArtifactRef> {
    return this.put(key, stableStringify(value, 2), opts);
  }

  /** Hashes first (metadata must be known when the upload starts), then streams the upload. */
  async putFile(key: string, localPath: string, opts?: PutOptions): Promise<ArtifactRef> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(localPath)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const sha256 = hash.digest('hex');
    await this.upload(key, createReadStream(localPath), sha256, opts);
    return { uri: this.uriFor(key), sha256, size, ...(opts?.summary ? { summary: opts.summary } : {}) };
  }

  /** No re-hash, unlike the local store: an S3 object is replaced whole, bytes and metadata at once. */
  async head(key: string): Promise<ArtifactRef | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const sha256 = out.Metadata?.sha256;
      if (!sha256) return undefined;
      const summary = out.Metadata?.summary ? (JSON.parse(decodeURIComponent(out.Metadata.summary)) as ArtifactRef['summary']) : undefined;
      return { uri: this.uriFor(key), sha256, size: out.ContentLength ?? 0, ...(summary ? { summary } : {}) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  private async body(ref: ArtifactRef): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(this.keyOf(ref.uri)) }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(`artifact not found: ${ref.uri}`);
      throw err;
    }
  }

  async get(ref: ArtifactRef): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.body(ref)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== ref.sha256 || bytes.byteLength !== ref.size) {
      throw new ArtifactIntegrityError(`artifact ${ref.uri} does not match its reference: expected sha256 ${ref.sha256} (${ref.size} B), found ${sha256} (${bytes.byteLength} B)`);
    }
    return bytes;
  }

  async getJson<T>(ref: ArtifactRef): Promise<T> {
    return JSON.parse(Buffer.from(await this.get(ref)).toString('utf8')) as T;
  }

  async getToFile(ref: ArtifactRef, localPath: string): Promise<void> {
    await mkdir(dirname(localPath), { recursive: true });
    // Unique per call: concurrent downloads to the same path must not share (and truncate) a temp file.
    const tmp = `${localPath}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(await this.body(ref), tap, createWriteStream(tmp));
      const sha256 = hash.digest('hex');
      if (sha256 !== ref.sha256 || size !== ref.size) {
        throw new ArtifactIntegrityError(`artifact ${ref.uri} does not match its reference: expected sha256 ${ref.sha256} (${ref.size} B), found ${sha256} (${size} B)`);
      }
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Keys under the prefix; objects whose names are not valid keys (written by others) are left out. */
  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    const base = this.prefix ? `${this.prefix}/` : '';
    do {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${base}${prefix}`, ContinuationToken: token }));
      for (const object of out.Contents ?? []) {
        const key = object.Key?.slice(base.length);
        if (key && object.Key!.startsWith(base) && isValidKey(key)) keys.push(key);
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** Multipart uploads are aborted on error (leavePartsOnError: false); nothing else is temporary. */
  async cleanupTemp(_olderThanMs: number): Promise<number> {
    return 0;
  }
}
