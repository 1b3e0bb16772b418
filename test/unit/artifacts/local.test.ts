// LocalArtifactStore specifics: what a killed writer leaves behind, cleanupTemp, concurrent writers.
// (The behaviour both stores share is in store-contract.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactIntegrityError, LocalArtifactStore, SIDECAR_SUFFIX, TEMP_MARKER, type ArtifactRef } from '../../../lib/artifacts/index';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'artifact-local-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

let n = 0;
/** A fresh store in its own folder, and that folder's path. */
function fresh(): { store: LocalArtifactStore; dir: string } {
  const dir = join(base, `store-${++n}`);
  return { store: new LocalArtifactStore(dir), dir };
}
const pathOf = (store: LocalArtifactStore, key: string) => fileURLToPath(store.uriFor(key));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}

describe('LocalArtifactStore on disk', () => {
  test('an object is its data file plus a sha256 sidecar, and nothing else', async () => {
    const { store, dir } = fresh();
    const ref = await store.put('a/b.bin', 'payload', { summary: { n: 1 } });
    assert.deepEqual(await filesUnder(dir), ['a/b.bin', `a/b.bin${SIDECAR_SUFFIX}`]);
    assert.equal(await readFile(join(dir, 'a', 'b.bin'), 'utf8'), 'payload');
    const sidecar = JSON.parse(await readFile(join(dir, 'a', `b.bin${SIDECAR_SUFFIX}`), 'utf8')) as Record<string, unknown>;
    const info = await stat(join(dir, 'a', 'b.bin'), { bigint: true });
    const stamp = { ino: String(info.ino), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) };
    assert.deepEqual(sidecar, { sha256: ref.sha256, size: 7, summary: { n: 1 }, stamp });
  });

  test('a writer killed mid-write leaves only a temp file: invisible to get/head/exists/list; cleanupTemp removes it', async () => {
    const { store, dir } = fresh();
    const done = await store.put('run/done.bin', 'finished');
    // What a writer killed before its rename leaves: partial data under a temp name, no sidecar.
    const partial = Buffer.from('half of the by');
    await writeFile(`${pathOf(store, 'run/killed.bin')}${TEMP_MARKER}a1b2c3d4e5f6`, partial);
    // ... and one killed between the data rename and the sidecar rename.
    await writeFile(pathOf(store, 'run/no-sidecar.bin'), 'renamed data, sidecar still a temp');
    await writeFile(`${pathOf(store, 'run/no-sidecar.bin')}${SIDECAR_SUFFIX}${TEMP_MARKER}0123456789ab`, '{"sha256":"x","si');

    for (const key of ['run/killed.bin', 'run/no-sidecar.bin']) {
      assert.equal(await store.head(key), undefined, key);
      assert.equal(await store.exists(key), false, key);
    }
    assert.deepEqual(await store.list('run/'), ['run/done.bin']);
    assert.deepEqual(await store.list(''), ['run/done.bin']);
    // A ref that names the temp file itself is refused (reserved marker), and the real key has no object.
    await assert.rejects(store.get({ uri: `${store.uriFor('run/killed.bin')}${TEMP_MARKER}a1b2c3d4e5f6`, sha256: sha256(partial), size: partial.length }), {
      name: 'InvalidArtifactKeyError',
    });
    await assert.rejects(store.get({ uri: store.uriFor('run/killed.bin'), sha256: sha256(partial), size: partial.length }), { name: 'ArtifactNotFoundError' });

    // Fresh temp files may belong to a live writer: a long grace period keeps them.
    assert.equal(await store.cleanupTemp(60 * 60 * 1000), 0);
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const f of await filesUnder(dir)) if (f.includes(TEMP_MARKER)) await utimes(join(dir, f), old, old);
    assert.equal(await store.cleanupTemp(60 * 60 * 1000), 2);
    assert.deepEqual(await filesUnder(dir), ['run/done.bin', `run/done.bin${SIDECAR_SUFFIX}`, 'run/no-sidecar.bin']);
    assert.equal(await store.cleanupTemp(0), 0);
    assert.equal(Buffer.from(await store.get(done)).toString(), 'finished');
    // The key is usable again afterwards.
    const again = await store.put('run/killed.bin', 'complete now');
    assert.deepEqual(await store.head('run/killed.bin'), again);
  });

  test('a crash after the data rename never pairs new data with the old hash', async () => {
    const { store } = fresh();
    await store.put('k', 'old contents');
    // Simulate: the new data landed, the sidecar did not (same size, so only the hash could tell).
    await writeFile(pathOf(store, 'k'), 'new contents');
    assert.equal(await store.head('k'), undefined);
  });

  // Issue 19, item 5: head() trusted the sidecar's size, so a stage whose output was overwritten in
  // place counted as finished and every re-run failed at the consumer with the sha256 error.
  test('an output overwritten in place with same-size bytes is not finished, and a re-put repairs it', async () => {
    const { store } = fresh();
    const ref = await store.put('run/out.bin', 'the real output');
    const path = pathOf(store, 'run/out.bin');
    const before = await stat(path);
    await new Promise((r) => setTimeout(r, 20)); // past the file system's timestamp granularity
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from('THE REAL OUTPUT'), 0, 15, 0); // same inode, same size
    await handle.close();
    await utimes(path, before.atime, before.mtime); // even with its mtime put back
    assert.equal(await store.head('run/out.bin'), undefined);
    assert.equal(await store.exists('run/out.bin'), false);
    assert.deepEqual(await store.list('run/'), []);
    await assert.rejects(store.get(ref), ArtifactIntegrityError);
    assert.deepEqual(await store.put('run/out.bin', 'the real output'), ref);
    assert.deepEqual(await store.head('run/out.bin'), ref);
  });

  test('a touched but intact object, or one with a sidecar from before stamps, is re-hashed once and still finished', async () => {
    const { store } = fresh();
    const ref = await store.put('k', 'intact');
    const path = pathOf(store, 'k');
    const sidecarPath = `${path}${SIDECAR_SUFFIX}`;
    const later = new Date(Date.now() + 60_000);
    await utimes(path, later, later);
    assert.deepEqual(await store.head('k'), ref);
    const restamped = JSON.parse(await readFile(sidecarPath, 'utf8')) as { stamp: { mtimeNs: string } };
    assert.equal(restamped.stamp.mtimeNs, String((await stat(path, { bigint: true })).mtimeNs), 'stamped again: the next head is cheap');
    await writeFile(sidecarPath, JSON.stringify({ sha256: ref.sha256, size: ref.size }));
    assert.deepEqual(await store.head('k'), ref);
    assert.ok((JSON.parse(await readFile(sidecarPath, 'utf8')) as { stamp?: unknown }).stamp, 'an old sidecar gets a stamp');
  });

  test('a sidecar whose size disagrees with the data file hides the object', async () => {
    const { store } = fresh();
    await store.put('k', 'abc');
    await writeFile(pathOf(store, 'k'), 'abcd');
    assert.equal(await store.head('k'), undefined);
    assert.deepEqual(await store.list(''), []);
  });

  test('a failed put leaves no temp file behind and the previous object intact', async () => {
    const { store, dir } = fresh();
    const previous = await store.put('p/obj', 'previous');
    // 'p/obj/child' needs 'p/obj' to be a folder; it is a file, so the write fails.
    await assert.rejects(store.put('p/obj/child', 'x'));
    // 'p/dir' is a folder, so renaming a file onto it fails after the data was written.
    await mkdir(join(dir, 'p', 'dir', 'inner'), { recursive: true });
    await assert.rejects(store.put('p/dir', 'x'));
    await assert.rejects(store.putFile('p/dir', pathOf(store, 'p/obj')));
    await assert.rejects(store.putJson('p/dir', { a: 1 }));
    assert.deepEqual((await filesUnder(dir)).filter((f) => f.includes(TEMP_MARKER)), []);
    assert.deepEqual(await store.head('p/obj'), previous);
  });

  test('concurrent puts of the same key leave one whole object that verifies', async () => {
    const { store, dir } = fresh();
    for (let round = 0; round < 5; round++) {
      // Different sizes and contents, so any mix of one writer's data and another's sidecar shows.
      const payloads = Array.from({ length: 12 }, (_, i) => randomBytes(1000 + i * 977 + round));
      const refs = await Promise.all(payloads.map((p) => store.put('race/key.bin', p)));
      const head = await store.head('race/key.bin');
      assert.ok(head, `round ${round}: the object vanished`);
      const winner = refs.find((r) => r.sha256 === head.sha256);
      assert.ok(winner, `round ${round}: head names no writer's object`);
      const bytes = await store.get(head);
      assert.equal(sha256(bytes), head.sha256);
      assert.deepEqual(await store.list('race/'), ['race/key.bin']);
    }
    assert.deepEqual((await filesUnder(dir)).filter((f) => f.includes(TEMP_MARKER)), []);
  });

  test('the per-key commit lock: a live one makes writers wait, a stale one (dead writer) is taken over', async () => {
    const { store, dir } = fresh();
    await store.put('l/k', 'v1');
    const lock = `${pathOf(store, 'l/k')}${TEMP_MARKER}lock`;

    await writeFile(lock, '');
    let finished = false;
    const waiting = store.put('l/k', 'v2').then((ref) => ((finished = true), ref));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(finished, false, 'put must wait for the lock');
    assert.equal(Buffer.from(await store.get((await store.head('l/k'))!)).toString(), 'v1');
    assert.deepEqual(await store.list('l/'), ['l/k'], 'the lock is not an object');
    await rm(lock);
    const v2 = await waiting;
    assert.deepEqual(await store.head('l/k'), v2);

    await writeFile(lock, '');
    const old = new Date(Date.now() - 10 * 60 * 1000);
    await utimes(lock, old, old);
    const v3 = await store.put('l/k', 'v3');
    assert.deepEqual(await store.head('l/k'), v3);
    assert.deepEqual(await filesUnder(dir), ['l/k', `l/k${SIDECAR_SUFFIX}`]);
  });

  test('concurrent putFile and put of the same key leave one whole object', async () => {
    const { store, dir } = fresh();
    const sources: string[] = [];
    for (let i = 0; i < 6; i++) {
      const path = join(dir, '..', `src-${n}-${i}.bin`);
      await writeFile(path, randomBytes(50_000 + i * 313));
      sources.push(path);
    }
    for (let round = 0; round < 3; round++) {
      const refs: ArtifactRef[] = await Promise.all([
        ...sources.map((s) => store.putFile('race/file.bin', s)),
        ...sources.map((_, i) => store.put('race/file.bin', randomBytes(40_000 + i * 101))),
      ]);
      const head = await store.head('race/file.bin');
      assert.ok(head && refs.some((r) => r.sha256 === head.sha256), `round ${round}`);
      assert.equal(sha256(await store.get(head)), head.sha256);
    }
  });

  test('getToFile of a finished object writes the target atomically', async () => {
    const { store, dir } = fresh();
    const data = randomBytes(200_000);
    const ref = await store.put('g/x.bin', data);
    const target = join(dir, '..', `download-${n}`, 'x.bin');
    await Promise.all([store.getToFile(ref, target), store.getToFile(ref, target), store.getToFile(ref, target)]);
    assert.ok((await readFile(target)).equals(data));
    assert.equal((await stat(target)).size, data.length);
    const siblings = await readdir(join(dir, '..', `download-${n}`));
    assert.deepEqual(siblings, ['x.bin']);
  });
});
