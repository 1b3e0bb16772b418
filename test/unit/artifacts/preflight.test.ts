// Issue 19, item 6: a store root that cannot be written hung a campaign (a recursive mkdir under
// /proc never returns) and nothing checked the store before the start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStoreError, LocalArtifactStore, checkWritable, openStore, type ArtifactStore } from '../../../lib/artifacts/index';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'artifact-preflight-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

const storeError = (pattern: RegExp) => (err: Error) => {
  assert.ok(err instanceof ArtifactStoreError, `${err.name}: ${err.message}`);
  assert.match(err.message, pattern);
  return true;
};

describe('checkWritable', () => {
  test('passes on a writable store and leaves nothing behind', async () => {
    const store = openStore(join(base, 'ok'));
    await checkWritable(store);
    assert.deepEqual(await store.list(''), []);
    const files = (await readdir(join(base, 'ok'), { recursive: true, withFileTypes: true })).filter((e) => !e.isDirectory());
    assert.deepEqual(files, [], 'no probe, sidecar, temp or lock file');
  });

  test('a root that cannot be created (a file where a folder should be) fails at once, naming the root and the step', async () => {
    const started = Date.now();
    // A timeout far above the bound: failing within the bound means it failed on the error, not the timeout.
    await assert.rejects(checkWritable(openStore('/etc/hostname/store'), { timeoutMs: 120_000 }), storeError(/^artifact store file:\/\/\/etc\/hostname\/store: put _preflight\/\S+\.probe: .*ENOTDIR/));
    assert.ok(Date.now() - started < 60_000);
  });

  test('a store that never answers fails after the timeout, naming the root and the step', async () => {
    // What a root on a hung mount does: the first write never returns.
    const hanging = { root: 'file:///mnt/stale-nfs', put: () => new Promise<never>(() => undefined) } as unknown as ArtifactStore;
    const started = Date.now();
    await assert.rejects(checkWritable(hanging, { timeoutMs: 300 }), storeError(/^artifact store file:\/\/\/mnt\/stale-nfs: preflight put _preflight\/\S+: did not finish within 0\.3 s/));
    assert.ok(Date.now() - started < 60_000, 'the timeout (0.3 s) ended it, not the test runner');
  });
});

describe('kernel pseudo-file systems as a store root', () => {
  for (const root of ['/proc/dual-ipo-store', 'file:///sys/x', '/dev/dual-ipo']) {
    test(`${root} is refused when the store is opened, quickly and by name`, () => {
      assert.throws(() => openStore(root), storeError(/kernel pseudo-file system, not storage/));
    });
  }

  test('also through a symlink', async () => {
    await symlink('/proc/self', join(base, 'to-proc'));
    assert.throws(() => new LocalArtifactStore(join(base, 'to-proc', 'store')), storeError(/\/proc\/\d+\/store is under \/proc/));
  });

  test('/dev/shm is a real tmpfs and stays allowed', { skip: !existsSync('/dev/shm') }, async () => {
    const dir = await mkdtemp('/dev/shm/dual-ipo-preflight-');
    try {
      await checkWritable(openStore(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
