// A job's inputs as local paths. Inputs in a local (file://) store are verified and used in place;
// others are downloaded once per host into a cache keyed by sha256 (`<cache>/sha256/<hash>`, written
// to a temp name, verified, renamed), which every job on the host shares. A tree input (a folder
// output, outputs.ts) becomes a folder again: `<cache>/trees/<manifest sha256>/`, its files hard
// links to the cached blobs. Cached files are read-only: inputs are never the job's to change.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactRef } from '../../artifacts/types';
import type { StageContext } from '../contract';
import { CommandJobError } from './errors';
import { isTreeRef, treeFilesKey, TREE_FORMAT, type TreeManifest } from './outputs';
import { sha256File } from './hash';

export type LocalInput = ArtifactRef & { path: string };

const tmpName = (path: string) => `${path}.tmp-${randomBytes(6).toString('hex')}`;

/** The blob of `ref` in the host cache, downloaded and verified the first time. */
export async function cachedBlob(ctx: Pick<StageContext, 'store'>, cacheDir: string, ref: ArtifactRef): Promise<string> {
  const path = join(cacheDir, 'sha256', ref.sha256);
  const info = await stat(path).catch(() => undefined);
  if (info?.size === ref.size) return path;
  const tmp = tmpName(path);
  try {
    await ctx.store.getToFile(ref, tmp); // verifies size and sha256
    await chmod(tmp, 0o444);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return path;
}

async function verifiedInPlace(name: string, ref: ArtifactRef): Promise<string> {
  const path = fileURLToPath(ref.uri);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CommandJobError(`input "${name}" is missing: ${ref.uri}`, true);
  if (info.size !== ref.size) throw new CommandJobError(`input "${name}" (${ref.uri}) has ${info.size} B, its reference says ${ref.size} B`, true);
  const sha256 = await sha256File(path);
  if (sha256 !== ref.sha256) throw new CommandJobError(`input "${name}" (${ref.uri}) fails its sha256 check: found ${sha256}, its reference says ${ref.sha256}`, true);
  return path;
}

/** A tree input as a folder in the cache, assembled once per manifest. */
async function cachedTree(ctx: Pick<StageContext, 'store'>, cacheDir: string, name: string, ref: ArtifactRef): Promise<string> {
  const folder = join(cacheDir, 'trees', ref.sha256);
  if (existsSync(folder)) return folder;
  const manifest = JSON.parse(new TextDecoder().decode(await ctx.store.get(ref))) as TreeManifest;
  if (manifest?.format !== TREE_FORMAT || !Array.isArray(manifest.files)) throw new CommandJobError(`input "${name}" (${ref.uri}) says it is a folder but is not a ${TREE_FORMAT} manifest`, true);
  const key = ctx.store.keyOf(ref.uri);
  const tmp = tmpName(folder);
  try {
    for (const file of manifest.files) {
      const blob = await cachedBlob(ctx, cacheDir, { uri: ctx.store.uriFor(treeFilesKey(key, file.path)), sha256: file.sha256, size: file.size });
      const target = join(tmp, ...file.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      // A hard link shares the verified blob; across file systems, a copy.
      await link(blob, target).catch(() => copyFile(blob, target));
    }
    await mkdir(tmp, { recursive: true });
    await rename(tmp, folder).catch((err: NodeJS.ErrnoException) => {
      if (!existsSync(folder)) throw err; // another job assembled it meanwhile: theirs is as good
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return folder;
}

/** Every input of the request as a verified local path (a folder for a tree input). */
export async function materialiseInputs(ctx: Pick<StageContext, 'request' | 'store'>, cacheDir: string): Promise<Record<string, LocalInput>> {
  const inputs: Record<string, LocalInput> = {};
  for (const [name, ref] of Object.entries(ctx.request.inputs)) {
    if (isTreeRef(ref)) inputs[name] = { ...ref, path: await cachedTree(ctx, cacheDir, name, ref) };
    else if (ref.uri.startsWith('file://')) inputs[name] = { ...ref, path: await verifiedInPlace(name, ref) };
    else inputs[name] = { ...ref, path: await cachedBlob(ctx, cacheDir, ref) };
  }
  return inputs;
}
