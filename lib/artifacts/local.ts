// Local filesystem store. An object is visible only once its sha256 sidecar exists: data and
// sidecar are each written to a temp name and fsynced, then renamed into place as a pair under a
// per-key lock file, so a crash leaves only temp files and concurrent writers never mix their halves.
// The sidecar also records the data file's stamp (inode, mtime, ctime in ns) as published: head()
// trusts the recorded sha256 only while the stamp is unchanged and re-hashes the file otherwise, so
// an output overwritten in place (same size, new bytes) stops counting as finished and is redone.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, realpathSync, type BigIntStats } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { ArtifactRef } from './types';
import {
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  ArtifactStoreError,
  InvalidArtifactKeyError,
  SIDECAR_SUFFIX,
  TEMP_MARKER,
  validateKey,
  type ArtifactStore,
  type PutOptions,
} from './store';
import { stableStringify } from './stable-json';
import { nameStoreInErrors } from './store-errors';

/** What identifies one version of a data file without reading it; any write to the file changes ctime. */
interface Stamp {
  ino: string;
  mtimeNs: string;
  ctimeNs: string;
}

interface Sidecar {
  sha256: string;
  size: number;
  summary?: ArtifactRef['summary'];
  /** absent in sidecars written before stamps existed: those are re-hashed once, then stamped */
  stamp?: Stamp;
}

const stampOf = (info: BigIntStats): Stamp => ({ ino: String(info.ino), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) });
const sameStamp = (a: Stamp | undefined, b: Stamp) => a !== undefined && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const tempName = (path: string) => `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;

/** Writes data to a fresh, fsynced temp file beside `path` and returns its name; on failure nothing remains. */
async function writeTemp(path: string, data: Uint8Array | string): Promise<string> {
  const tmp = tempName(path);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/**
 * Copies `source` into a new temp file beside `target`, hashing on the way, and fsyncs it. The source
 * is opened before the temp file exists and the temp file exists before any stream starts, so no
 * failure (a missing source included) can leave a temp file behind.
 */
async function copyToTemp(source: string, target: string): Promise<{ tmp: string; sha256: string; size: number }> {
  const input = await open(source, 'r');
  const tmp = tempName(target);
  let output: FileHandle;
  try {
    output = await open(tmp, 'wx');
  } catch (err) {
    await input.close();
    throw err;
  }
  const hash = createHash('sha256');
  let size = 0;
  try {
    try {
      for await (const chunk of input.createReadStream()) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
        for (let done = 0; done < bytes.length; ) done += (await output.write(bytes, done, bytes.length - done)).bytesWritten;
      }
      await output.sync();
    } finally {
      await output.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { tmp, sha256: hash.digest('hex'), size };
}

/** A key whose data file is missing (or is a folder, because longer keys live under it) has no object. */
const isMissing = (err: unknown) => ['ENOENT', 'EISDIR', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/** A lock older than this was left by a writer that died inside the (milliseconds long) commit. */
const STALE_LOCK_MS = 30_000;

/**
 * Runs `commit` holding an exclusive lock file for one key, so that concurrent writers of the same key
 * (in this process or another) publish data and sidecar as a pair and never interleave their renames.
 * The lock name carries the temp marker: it is invisible to list and removed by cleanupTemp.
 */
async function withKeyLock<T>(path: string, commit: () => Promise<T>): Promise<T> {
  const lock = `${path}${TEMP_MARKER}lock`;
  for (;;) {
    try {
      await (await open(lock, 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(lock).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 1 + Math.random() * 5));
    }
  }
  try {
    return await commit();
  } finally {
    await rm(lock, { force: true });
  }
}

/** A list prefix must be the start of a valid key: no "..", absolute, backslash or NUL parts. */
function checkPrefix(prefix: string): void {
  if (!prefix) return;
  try {
    validateKey(`${prefix}_`);
  } catch (err) {
    throw new InvalidArtifactKeyError(`artifact prefix "${prefix}" is refused: it is not the start of a valid key (${(err as Error).message})`);
  }
}

/**
 * Kernel pseudo-file systems are not storage: a recursive mkdir under /proc never returns, and what
 * does get written is gone at reboot. /dev/shm is a real tmpfs and stays allowed.
 */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
const ALLOWED_UNDER_PSEUDO = ['/dev/shm'];
const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** `dir` with symlinks resolved as far as it exists (the rest does not exist yet, so holds no links). */
function realTarget(dir: string): string {
  let existing = dir;
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  try {
    return join(realpathSync(existing), ...rest);
  } catch {
    return dir;
  }
}

function refusePseudoFileSystem(dir: string, root: string): void {
  for (const path of new Set([dir, realTarget(dir)])) {
    if (ALLOWED_UNDER_PSEUDO.some((ok) => under(path, ok))) continue;
    const pseudo = PSEUDO_ROOTS.find((folder) => under(path, folder));
    if (pseudo) {
      throw new ArtifactStoreError(root, 'open', undefined, new Error(`${path} is under ${pseudo}, a kernel pseudo-file system, not storage; choose a folder on a disk`), { nonRetryable: true });
    }
  }
}

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly dir: string;

  constructor(rootUri: string) {
    this.dir = rootUri.startsWith('file://') ? fileURLToPath(rootUri) : resolve(rootUri);
    this.root = pathToFileURL(this.dir).href.replace(/\/$/, '');
    refusePseudoFileSystem(this.dir, this.root);
    nameStoreInErrors(this);
  }

  private pathOf(key: string): string {
    return join(this.dir, ...validateKey(key).split('/'));
  }

  uriFor(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  keyOf(uri: string): string {
    if (!uri.startsWith('file://')) throw new InvalidArtifactKeyError(`${uri} is not in the local store ${this.root}`);
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (err) {
      throw new InvalidArtifactKeyError(`${uri} is not a usable file URI: ${(err as Error).message}`);
    }
    const rel = relative(this.dir, path);
    if (!rel || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) || uri.endsWith('/')) {
      throw new InvalidArtifactKeyError(`${uri} is outside the store root ${this.root}`);
    }
    return validateKey(rel.split(sep).join('/'));
  }

  /**
   * Publishes a finished temp data file: writes the sidecar to a temp name, then under the key's lock
   * removes the old sidecar, renames the data, renames the sidecar. A crash between the renames
   * leaves data without a sidecar (invisible), never new data with an old hash. On failure the temp
   * files are removed and an existing object is left as it was, unless the failure hit the renames.
   */
  private async publish(key: string, dataTmp: string, sha256: string, size: number, opts?: PutOptions): Promise<ArtifactRef> {
    const path = this.pathOf(key);
    const sidecarPath = `${path}${SIDECAR_SUFFIX}`;
    const sidecar: Sidecar = { sha256, size, ...(opts?.summary ? { summary: opts.summary } : {}) };
    let sidecarTmp: string | undefined;
    try {
      await withKeyLock(path, async () => {
        await rm(sidecarPath, { force: true });
        await rename(dataTmp, path);
        // Stamped after the rename: renaming changes the file's ctime.
        sidecar.stamp = stampOf(await stat(path, { bigint: true }));
        sidecarTmp = await writeTemp(sidecarPath, stableStringify(sidecar));
        await rename(sidecarTmp, sidecarPath);
      });
    } catch (err) {
      await rm(dataTmp, { force: true });
      if (sidecarTmp) await rm(sidecarTmp, { force: true });
      throw err;
    }
    return { uri: this.uriFor(key), sha256, size, ...(opts?.summary ? { summary: opts.summary } : {}) };
  }

  async put(key: string, data: Uint8Array | string, opts?: PutOptions): Promise<ArtifactRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = await writeTemp(path, bytes);
    return this.publish(key, tmp, createHash('sha256').update(bytes).digest('hex'), bytes.byteLength, opts);
  }

  async putJson(key: string, value: unknown, opts?: PutOptions): Promise<ArtifactRef> {
    return this.put(key, stableStringify(value, 2), opts);
  }

  async putFile(key: string, localPath: string, opts?: PutOptions): Promise<ArtifactRef> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const { tmp, sha256, size } = await copyToTemp(localPath, path);
    return this.publish(key, tmp, sha256, size, opts);
  }

  private async readSidecar(path: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(`${path}${SIDECAR_SUFFIX}`, 'utf8')) as Sidecar;
    } catch {
      return undefined;
    }
  }

  /**
   * The reference of a finished, intact object, or undefined. Cheap (two small reads) while the data
   * file is the one that was published; when its stamp differs (written in place, restored from a
   * copy, or a sidecar from before stamps) the file is re-hashed, and a match is stamped again so the
   * next head is cheap. A file that no longer matches its sha256 is not finished: its producer redoes it.
   */
  async head(key: string): Promise<ArtifactRef | undefined> {
    const path = this.pathOf(key);
    const sidecar = await this.readSidecar(path);
    if (!sidecar) return undefined;
    const info = await stat(path, { bigint: true }).catch(() => undefined);
    if (!info || !info.isFile() || Number(info.size) !== sidecar.size) return undefined;
    const stamp = stampOf(info);
    if (!sameStamp(sidecar.stamp, stamp)) {
      if ((await hashFile(path).catch(() => undefined)) !== sidecar.sha256) return undefined;
      // A read-only store still answers; it only keeps re-hashing.
      await this.restamp(path, sidecar, stamp).catch(() => undefined);
    }
    return { uri: this.uriFor(key), sha256: sidecar.sha256, size: sidecar.size, ...(sidecar.summary ? { summary: sidecar.summary } : {}) };
  }

  /** Records `stamp` in the sidecar, unless the object changed since it was hashed. */
  private async restamp(path: string, hashed: Sidecar, stamp: Stamp): Promise<void> {
    await withKeyLock(path, async () => {
      const current = await this.readSidecar(path);
      const now = stampOf(await stat(path, { bigint: true }));
      if (!current || current.sha256 !== hashed.sha256 || !sameStamp(stamp, now)) return;
      const sidecarPath = `${path}${SIDECAR_SUFFIX}`;
      const tmp = await writeTemp(sidecarPath, stableStringify({ ...current, stamp }));
      await rename(tmp, sidecarPath).catch(async (err: unknown) => {
        await rm(tmp, { force: true });
        throw err;
      });
    });
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  async get(ref: ArtifactRef): Promise<Uint8Array> {
    const path = this.pathOf(this.keyOf(ref.uri));
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if (isMissing(err)) throw new ArtifactNotFoundError(`artifact not found: ${ref.uri}`);
      throw err;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.byteLength !== ref.size || sha256 !== ref.sha256) {
      throw new ArtifactIntegrityError(
        `artifact ${ref.uri} does not match its reference: expected sha256 ${ref.sha256} (${ref.size} B), found ${sha256} (${bytes.byteLength} B)`,
      );
    }
    return bytes;
  }

  async getJson<T>(ref: ArtifactRef): Promise<T> {
    return JSON.parse(Buffer.from(await this.get(ref)).toString('utf8')) as T;
  }

  async getToFile(ref: ArtifactRef, localPath: string): Promise<void> {
    const source = this.pathOf(this.keyOf(ref.uri));
    await mkdir(dirname(localPath), { recursive: true });
    let copied: Awaited<ReturnType<typeof copyToTemp>>;
    try {
      copied = await copyToTemp(source, localPath);
    } catch (err) {
      if (isMissing(err)) throw new ArtifactNotFoundError(`artifact not found: ${ref.uri}`);
      throw err;
    }
    const { tmp, sha256, size } = copied;
    if (sha256 !== ref.sha256 || size !== ref.size) {
      await rm(tmp, { force: true });
      throw new ArtifactIntegrityError(`artifact ${ref.uri} does not match its reference: expected sha256 ${ref.sha256} (${ref.size} B), found ${sha256} (${size} B)`);
    }
    try {
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix);
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.endsWith(SIDECAR_SUFFIX) && !entry.name.includes(TEMP_MARKER)) {
          const key = relative(this.dir, path.slice(0, -SIDECAR_SUFFIX.length)).split(sep).join('/');
          if (key.startsWith(prefix) && (await this.head(key))) keys.push(key);
        }
      }
    };
    // Walk only the folder the prefix names, not the whole store.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(folder ? join(this.dir, ...folder.split('/')) : this.dir);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    // Nothing there, a folder of longer keys, or a file where a folder would be: no object to delete.
    const absent = (err: unknown) => {
      if (!isMissing(err) && (err as NodeJS.ErrnoException).code !== 'ERR_FS_EISDIR') throw err;
    };
    await rm(`${path}${SIDECAR_SUFFIX}`, { force: true }).catch(absent);
    await rm(path, { force: true }).catch(absent);
  }

  async cleanupTemp(olderThanMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.includes(TEMP_MARKER)) {
          // A writer may rename its temp file away between readdir and stat: that one is not ours to remove.
          const info = await stat(path).catch(() => undefined);
          if (info && info.mtimeMs <= cutoff) {
            await rm(path, { force: true });
            removed += 1;
          }
        }
      }
    };
    await walk(this.dir);
    return removed;
  }
}
