// Checkpoint files: a progress message may name files under the request's checkpointDir (weights,
// optimizer state). They are uploaded to the artifact store (`<stage prefix>checkpoint/<path>`)
// before the checkpoint counts, and the checkpoint the runner keeps is an envelope holding the job's
// own checkpoint and the files' references. A retry on any host puts the files back in place, verified,
// before the job starts, and hands the job its own checkpoint, unwrapped.
import { existsSync } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ArtifactRef } from '../../artifacts/types';
import { validateKey } from '../../artifacts/store';
import type { StageContext } from '../contract';
import { CommandJobError } from './errors';
import { sha256File } from './hash';

export const ENVELOPE = 'dual-ipo/checkpoint@2';

export interface CheckpointEnvelope {
  format: typeof ENVELOPE;
  value: unknown;
  files: Record<string, ArtifactRef>;
}

export const isEnvelope = (c: unknown): c is CheckpointEnvelope => typeof c === 'object' && c !== null && (c as { format?: unknown }).format === ENVELOPE;

/** The job's own checkpoint, whichever form the runner kept. */
export const jobCheckpoint = (c: unknown): unknown => (isEnvelope(c) ? c.value : c);

export const checkpointFileKey = (ctx: Pick<StageContext, 'outputKey'>, path: string) => ctx.outputKey(`checkpoint/${path}`);

/**
 * Uploads the named files (skipping those the previous envelope already holds unchanged) and returns
 * the envelope to record. A name outside checkpointDir, a link or a missing file fails the job without
 * retry: resuming from a checkpoint whose files were not kept would be worse than stopping.
 */
export async function uploadCheckpoint(ctx: Pick<StageContext, 'store' | 'outputKey'>, checkpointDir: string, value: unknown, names: string[], previous: unknown, label: string): Promise<CheckpointEnvelope> {
  const known = isEnvelope(previous) ? previous.files : {};
  const files: Record<string, ArtifactRef> = {};
  const realDir = await realpath(checkpointDir);
  for (const name of names) {
    const path = resolve(checkpointDir, name);
    const rel = relative(checkpointDir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new CommandJobError(`${label}: checkpoint file "${name}" is not inside the checkpoint folder ${checkpointDir}`, true);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile()) throw new CommandJobError(`${label}: checkpoint file "${name}" (${path}) is ${!info ? 'missing' : 'not a regular file'}; write it before reporting the checkpoint`, true);
    const realRel = relative(realDir, await realpath(path));
    if (realRel.startsWith('..') || isAbsolute(realRel)) throw new CommandJobError(`${label}: checkpoint file "${name}" leads out of the checkpoint folder through a link`, true);
    const key = checkpointFileKey(ctx, rel.split('\\').join('/'));
    try {
      validateKey(key);
    } catch (err) {
      throw new CommandJobError(`${label}: checkpoint file "${name}": ${(err as Error).message}`, true);
    }
    const sha256 = await sha256File(path);
    const before = known[rel];
    files[rel] = before && before.sha256 === sha256 && before.size === info.size ? before : await ctx.store.putFile(key, path);
  }
  return { format: ENVELOPE, value, files };
}

/**
 * Puts an envelope's files back under checkpointDir: a local file with the right sha256 is kept, any
 * other is replaced from the store (verified). Returns false when a file cannot be restored (the store
 * no longer holds that version): the caller then starts without the checkpoint.
 */
export async function restoreCheckpoint(ctx: Pick<StageContext, 'store' | 'log'>, checkpointDir: string, envelope: CheckpointEnvelope): Promise<boolean> {
  for (const [rel, ref] of Object.entries(envelope.files)) {
    const path = join(checkpointDir, ...rel.split('/'));
    if (existsSync(path) && (await sha256File(path).catch(() => '')) === ref.sha256) continue;
    await mkdir(dirname(path), { recursive: true });
    try {
      await ctx.store.getToFile(ref, path); // verified, then renamed into place
    } catch (err) {
      ctx.log(`checkpoint file ${rel} cannot be restored (${(err as Error).message}); starting without the checkpoint`, { file: rel });
      return false;
    }
  }
  return true;
}
