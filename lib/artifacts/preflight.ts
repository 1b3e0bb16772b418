// Checking a store before a campaign starts: a root that cannot be written (read-only, a file where a
// folder should be, missing credentials, a mount that hangs) must fail the start with a message naming
// the store, not hang or fail stage after stage while a worker slot is held.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ArtifactStoreError, type ArtifactStore } from './store';
import { storeError } from './store-errors';

export interface CheckWritableOptions {
  /** for the whole probe: write, read back, delete (default 15 s) */
  timeoutMs?: number;
}

export const PREFLIGHT_PREFIX = '_preflight/';

/**
 * Writes a small probe object under a unique key, reads it back, deletes it, and checks it is gone.
 * Throws an error naming the store root and the step that failed or
 * did not finish in time. A step that hangs keeps running in the background; nothing waits for it.
 *
 *   await checkWritable(openStore(config.artifacts.root, config.artifacts.s3));
 */
export async function checkWritable(store: ArtifactStore, opts: CheckWritableOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const key = `${PREFLIGHT_PREFIX}${hostname().replace(/[^A-Za-z0-9._-]/g, '-') || 'host'}-${process.pid}-${randomBytes(6).toString('hex')}.probe`;
  const probe = `dual-ipo store preflight ${new Date().toISOString()}\n`;

  const step = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ArtifactStoreError(store.root, `preflight ${operation}`, key, new Error(`did not finish within ${timeoutMs / 1000} s (is the store reachable and writable?)`), { nonRetryable: true })),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([run(), timeout]);
    } catch (err) {
      // Errors from the store's methods already name it; a store that does not name itself gets named here.
      throw storeError(err, store.root, operation, key);
    } finally {
      clearTimeout(timer);
    }
  };

  const ref = await step('put', () => store.put(key, probe));
  const back = Buffer.from(await step('get', () => store.get(ref))).toString('utf8');
  if (back !== probe) throw new ArtifactStoreError(store.root, 'preflight get', key, new Error('read back different bytes than were written'), { nonRetryable: true });
  await step('delete', () => store.delete(key));
  if (await step('head', () => store.head(key))) throw new ArtifactStoreError(store.root, 'preflight delete', key, new Error('the probe is still there after delete'), { nonRetryable: true });
}
