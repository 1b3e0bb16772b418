// One contract, two implementations: the local filesystem store and the S3 store, the latter against
// two S3 servers started on free loopback ports: s3rver (npm) and moto's server (PyPI, installed by
// scripts/setup-deploy-tools.sh). All must behave the same for callers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { findDeployTool, INSTALL_COMMAND } from '../../helpers/deploy-tools';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  ArtifactStoreError,
  InvalidArtifactKeyError,
  LocalArtifactStore,
  S3ArtifactStore,
  openStore,
  type ArtifactRef,
  type ArtifactStore,
  type S3Options,
  checkWritable,
} from '../../../lib/artifacts/index';

// s3rver ships no type declarations: describe the part of it these tests use.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverConstructor;

const MiB = 1024 * 1024;
const BUCKET = 'test-bucket';
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

interface Harness {
  store: ArtifactStore;
  /** Overwrites the stored bytes of a finished object behind the store's back (bit rot, a rogue writer). */
  tamper(key: string, bytes: Uint8Array): Promise<void>;
  /** URIs that lie outside the store root (other roots, other schemes, malformed); [0] is used with get(). */
  outsideUris: string[];
}

/** Files under a directory whose names mark them as temporary (`.tmp-`). */
async function tempLeftovers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((name) => name.includes('.tmp-'));
}

const REFUSED_KEYS = ['../x', '/abs', 'a/../../b', 'a/../b', './a', 'a/./b', 'a//b', 'a/', '', 'a\\b', '..\\x', 'a\0b', 'x.sha256', 'a/b.sha256', 'a.tmp-123', 'a.tmp-/b'];

function contract(name: string, open: () => Harness) {
  describe(`ArtifactStore contract: ${name}`, () => {
    let h: Harness;
    let work: string;
    before(async () => {
      h = open();
      work = await mkdtemp(join(tmpdir(), 'artifact-contract-files-'));
    });
    after(async () => {
      await rm(work, { recursive: true, force: true });
    });

    test('root has no trailing slash; uriFor is root + key', () => {
      assert.ok(!h.store.root.endsWith('/'));
      assert.equal(h.store.uriFor('a/b.txt'), `${h.store.root}/a/b.txt`);
    });

    test('put/get round trip of a string: ref has the uri, sha256 and byte size', async () => {
      const value = 'héllo, wörld\n';
      const ref = await h.store.put('rt/string.txt', value);
      assert.equal(ref.uri, h.store.uriFor('rt/string.txt'));
      assert.equal(ref.sha256, sha256(Buffer.from(value, 'utf8')));
      assert.equal(ref.size, Buffer.byteLength(value, 'utf8'));
      assert.equal(ref.summary, undefined);
      assert.equal(text(await h.store.get(ref)), value);
    });

    test('put/get round trip of bytes, including a view into a larger buffer', async () => {
      const backing = randomBytes(4096);
      const view = backing.subarray(100, 1100);
      const ref = await h.store.put('rt/view.bin', new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      assert.equal(ref.size, 1000);
      assert.equal(ref.sha256, sha256(view));
      assert.deepEqual(Buffer.from(await h.store.get(ref)), view);
    });

    test('empty object: put, head, get', async () => {
      const ref = await h.store.put('rt/empty', new Uint8Array(0));
      assert.equal(ref.size, 0);
      assert.equal(ref.sha256, sha256(''));
      assert.deepEqual(await h.store.head('rt/empty'), ref);
      assert.equal((await h.store.get(ref)).byteLength, 0);
    });

    test('a multi-MB object round trips (multipart on S3)', async () => {
      const big = randomBytes(11 * MiB + 123);
      const ref = await h.store.put('rt/big.bin', big);
      assert.equal(ref.size, big.byteLength);
      assert.equal(ref.sha256, sha256(big));
      assert.deepEqual(await h.store.head('rt/big.bin'), ref);
      const back = await h.store.get(ref);
      assert.equal(sha256(back), ref.sha256);
      assert.ok(Buffer.from(back).equals(big));
    });

    test('keys with spaces, #, %, + and non-ASCII characters round trip', async () => {
      const key = 'odd/a b#c%d+e é.txt';
      const ref = await h.store.put(key, 'odd');
      assert.equal(text(await h.store.get(ref)), 'odd');
      assert.equal(h.store.keyOf(ref.uri), key);
      assert.deepEqual(await h.store.list('odd/'), [key]);
    });

    test('putFile/getToFile round trip, small, empty and multi-MB', async () => {
      for (const [key, data] of [
        ['files/small.txt', Buffer.from('small file\n')],
        ['files/empty.bin', Buffer.alloc(0)],
        ['files/big.bin', randomBytes(6 * MiB + 7)],
      ] as const) {
        const source = join(work, `src-${key.replace(/\//g, '_')}`);
        await writeFile(source, data);
        const ref = await h.store.putFile(key, source, { summary: { kind: 'file' } });
        assert.equal(ref.uri, h.store.uriFor(key));
        assert.equal(ref.size, data.byteLength, key);
        assert.equal(ref.sha256, sha256(data), key);
        assert.deepEqual(ref.summary, { kind: 'file' });
        assert.deepEqual(await h.store.head(key), ref);
        const target = join(work, 'out', 'nested', key.replace(/\//g, '_'));
        await h.store.getToFile(ref, target);
        assert.ok((await readFile(target)).equals(data), key);
      }
      assert.deepEqual(await tempLeftovers(work), []);
    });

    test('concurrent getToFile calls to the same target all succeed with whole content', async () => {
      const data = randomBytes(300_000);
      const ref = await h.store.put('files/shared.bin', data);
      const target = join(work, 'shared', 'x.bin');
      await Promise.all(Array.from({ length: 4 }, () => h.store.getToFile(ref, target)));
      assert.ok((await readFile(target)).equals(data));
      assert.deepEqual(await readdir(join(work, 'shared')), ['x.bin']);
    });

    test('putFile of a missing local file fails clearly and leaves the previous object intact', async () => {
      const previous = await h.store.put('files/keep.txt', 'previous');
      await assert.rejects(h.store.putFile('files/keep.txt', join(work, 'does-not-exist')), /ENOENT|no such file/);
      assert.deepEqual(await h.store.head('files/keep.txt'), previous);
      assert.equal(text(await h.store.get(previous)), 'previous');
      assert.deepEqual(await h.store.list('files/keep'), ['files/keep.txt']);
    });

    test('putJson/getJson round trip with stable (sorted) bytes', async () => {
      const a = await h.store.putJson('json/a.json', { b: [1, { y: 2, x: 1 }], a: 'x', n: null });
      const b = await h.store.putJson('json/b.json', { a: 'x', n: null, b: [1, { x: 1, y: 2 }] });
      assert.equal(a.sha256, b.sha256);
      assert.deepEqual(await h.store.getJson(a), { a: 'x', b: [1, { x: 1, y: 2 }], n: null });
      assert.equal(a.sha256, sha256(await h.store.get(a)));
    });

    test('summary metadata is kept in the ref and in head', async () => {
      const summary = { rows: 42, loss: 0.125, name: 'critic r1 — ü', ok: true, none: null };
      const ref = await h.store.put('meta/s.txt', 'x', { summary });
      assert.deepEqual(ref.summary, summary);
      assert.deepEqual((await h.store.head('meta/s.txt'))?.summary, summary);
      const json = await h.store.putJson('meta/j.json', { v: 1 }, { summary: { v: 1 } });
      assert.deepEqual((await h.store.head('meta/j.json'))?.summary, { v: 1 });
      assert.deepEqual(json.summary, { v: 1 });
    });

    test('head/exists: finished objects only; undefined/false for missing', async () => {
      const ref = await h.store.put('he/a.txt', 'a');
      assert.deepEqual(await h.store.head('he/a.txt'), ref);
      assert.equal(await h.store.exists('he/a.txt'), true);
      assert.equal(await h.store.head('he/missing.txt'), undefined);
      assert.equal(await h.store.exists('he/missing.txt'), false);
      assert.equal(await h.store.exists('he'), false, 'a "folder" is not an object');
    });

    test('overwriting a key replaces the object; the old ref no longer verifies', async () => {
      const v1 = await h.store.put('ow/k', 'version one');
      const v2 = await h.store.put('ow/k', 'version two, longer');
      assert.deepEqual(await h.store.head('ow/k'), v2);
      assert.equal(text(await h.store.get(v2)), 'version two, longer');
      await assert.rejects(h.store.get(v1), ArtifactIntegrityError);
    });

    test('list returns finished keys under a prefix, sorted, relative to the root', async () => {
      await h.store.put('ls/b', 'b');
      await h.store.put('ls/a', 'a');
      await h.store.put('ls/sub/c', 'c');
      await h.store.putJson('ls/sub/d.json', {});
      await h.store.put('lsx/other', 'o');
      assert.deepEqual(await h.store.list('ls/'), ['ls/a', 'ls/b', 'ls/sub/c', 'ls/sub/d.json']);
      assert.deepEqual(await h.store.list('ls/sub/'), ['ls/sub/c', 'ls/sub/d.json']);
      assert.deepEqual(await h.store.list('ls/su'), ['ls/sub/c', 'ls/sub/d.json']);
      assert.deepEqual(await h.store.list('ls'), ['ls/a', 'ls/b', 'ls/sub/c', 'ls/sub/d.json', 'lsx/other']);
      assert.deepEqual(await h.store.list('nothing-here/'), []);
      const all = await h.store.list('');
      assert.ok(all.includes('ls/a') && all.includes('lsx/other'));
      for (const key of all) assert.ok(!key.endsWith('.sha256') && !key.includes('.tmp-'), `list leaked ${key}`);
    });

    test('list refuses prefixes that escape the root', async () => {
      for (const prefix of ['../', '../x', '/abs', 'a/../../', 'a/./', 'a//', 'a\\b', 'a\0']) {
        await assert.rejects(h.store.list(prefix), InvalidArtifactKeyError, `prefix ${JSON.stringify(prefix)}`);
      }
    });

    test('delete removes the object (and is idempotent)', async () => {
      const ref = await h.store.put('del/x', 'x');
      await h.store.delete('del/x');
      assert.equal(await h.store.exists('del/x'), false);
      assert.deepEqual(await h.store.list('del/'), []);
      await assert.rejects(h.store.get(ref), ArtifactNotFoundError);
      await h.store.delete('del/x');
    });

    test('delete of a "folder" above other keys is a no-op that leaves them alone', async () => {
      const ref = await h.store.put('del2/folder/child', 'c');
      await h.store.delete('del2/folder');
      await h.store.delete('del2/never');
      await h.store.delete('del2/folder/child/below');
      assert.deepEqual(await h.store.head('del2/folder/child'), ref);
      assert.deepEqual(await h.store.list('del2/'), ['del2/folder/child']);
    });

    test('get with a wrong sha256 → ArtifactIntegrityError naming the URI; getToFile writes nothing', async () => {
      const ref = await h.store.put('int/a.txt', 'abc');
      const wrong: ArtifactRef = { ...ref, sha256: sha256('something else') };
      await assert.rejects(h.store.get(wrong), (err: unknown) => {
        assert.ok(err instanceof ArtifactIntegrityError);
        assert.ok(err.message.includes(ref.uri), err.message);
        assert.ok(err.message.includes(wrong.sha256), err.message);
        assert.equal(err.nonRetryable, true);
        return true;
      });
      await assert.rejects(h.store.getJson(wrong), ArtifactIntegrityError);
      await assert.rejects(h.store.get({ ...ref, size: ref.size + 1 }), ArtifactIntegrityError);
      const target = join(work, 'int', 'a.txt');
      await assert.rejects(h.store.getToFile(wrong, target), (err: unknown) => err instanceof ArtifactIntegrityError && err.message.includes(ref.uri));
      await assert.rejects(readFile(target), { code: 'ENOENT' });
      assert.deepEqual(await tempLeftovers(work), []);
    });

    test('bytes tampered after put → ArtifactIntegrityError on get and getToFile', async () => {
      const ref = await h.store.put('int/t.bin', 'original!');
      await h.tamper('int/t.bin', Buffer.from('tampered!')); // same size: only the hash can tell
      await assert.rejects(h.store.get(ref), (err: unknown) => err instanceof ArtifactIntegrityError && err.message.includes(ref.uri));
      const target = join(work, 'tampered.bin');
      await writeFile(target, 'pre-existing');
      await assert.rejects(h.store.getToFile(ref, target), ArtifactIntegrityError);
      assert.equal(await readFile(target, 'utf8'), 'pre-existing', 'a failed download must not replace the target');
      assert.deepEqual(await tempLeftovers(work), []);
    });

    test('missing key → ArtifactNotFoundError naming the key, for get, getJson and getToFile', async () => {
      const ref: ArtifactRef = { uri: h.store.uriFor('nf/never-written.bin'), sha256: sha256(''), size: 0 };
      for (const attempt of [() => h.store.get(ref), () => h.store.getJson(ref), () => h.store.getToFile(ref, join(work, 'nf', 'x'))]) {
        await assert.rejects(attempt(), (err: unknown) => {
          assert.ok(err instanceof ArtifactNotFoundError, String(err));
          assert.ok(err.message.includes('nf/never-written.bin'), err.message);
          return true;
        });
      }
      await assert.rejects(readFile(join(work, 'nf', 'x')), { code: 'ENOENT' });
      assert.deepEqual(await tempLeftovers(work), []);
    });

    test('a "folder" above other keys, or a path below an object, is a missing artifact too', async () => {
      await h.store.put('nf2/folder/child', 'c');
      await h.store.put('nf2/object', 'o');
      for (const key of ['nf2/folder', 'nf2/object/below']) {
        assert.equal(await h.store.head(key), undefined, key);
        const ref: ArtifactRef = { uri: h.store.uriFor(key), sha256: sha256(''), size: 0 };
        await assert.rejects(h.store.get(ref), ArtifactNotFoundError, key);
        await assert.rejects(h.store.getToFile(ref, join(work, 'nf2', 'x')), ArtifactNotFoundError, key);
      }
      assert.deepEqual(await tempLeftovers(work), []);
    });

    test('refused keys → InvalidArtifactKeyError from every keyed method', async () => {
      const source = join(work, 'refused-src.txt');
      await writeFile(source, 'x');
      for (const key of REFUSED_KEYS) {
        const label = JSON.stringify(key);
        assert.throws(() => h.store.uriFor(key), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.put(key, 'x'), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.putJson(key, {}), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.putFile(key, source), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.head(key), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.exists(key), InvalidArtifactKeyError, label);
        await assert.rejects(h.store.delete(key), InvalidArtifactKeyError, label);
      }
      const err = await h.store.put('../escape', 'x').catch((e: unknown) => e);
      assert.ok(err instanceof InvalidArtifactKeyError && err.message.includes('../escape') && err.nonRetryable);
    });

    test('keyOf(uriFor(key)) round trips; URIs outside the root are refused', async () => {
      for (const key of ['a', 'a/b/c.json', '..hidden', '...', 'a/..b', '.dot/x', 'sp ace/#hash?q=1%25']) {
        assert.equal(h.store.keyOf(h.store.uriFor(key)), key);
      }
      for (const uri of [h.store.root, `${h.store.root}/`, `${h.store.root}/a/`, `${h.store.root}x/a`, `${h.store.root}/../a`, `${h.store.root}/a/../../b`, ...h.outsideUris]) {
        assert.throws(() => h.store.keyOf(uri), InvalidArtifactKeyError, uri);
      }
      // and get() of such a URI is refused before anything is read
      await assert.rejects(h.store.get({ uri: h.outsideUris[0]!, sha256: sha256(''), size: 0 }), InvalidArtifactKeyError);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Local filesystem (the root has spaces in it: URIs must encode and decode them)

describe('LocalArtifactStore', () => {
  const localDir = mkdtempSync(join(tmpdir(), 'artifact store local '));
  after(async () => {
    await rm(localDir, { recursive: true, force: true });
  });

  contract('local filesystem', () => {
    const store = new LocalArtifactStore(join(localDir, 'root'));
    return {
      store,
      tamper: (key, bytes) => writeFile(fileURLToPath(store.uriFor(key)), bytes),
      outsideUris: [
        `${store.root.replace(/\/root$/, '/elsewhere')}/a`,
        's3://bucket/a',
        'http://example.com/a',
        'file://otherhost/a',
        `${store.root}/a%2Fb`,
        `${store.root}/x.sha256`,
      ],
    };
  });

  test('a file:// root and a plain path give the same store; openStore picks it for both', () => {
    const byPath = new LocalArtifactStore(join(localDir, 'same'));
    const byUri = new LocalArtifactStore(`${pathToFileURL(join(localDir, 'same')).href}/`);
    assert.equal(byPath.root, byUri.root);
    assert.equal(byPath.uriFor('k'), byUri.uriFor('k'));
    assert.ok(openStore(join(localDir, 'same')) instanceof LocalArtifactStore);
    assert.equal(openStore(byUri.root).root, byPath.root);
  });

  // Issue 19, item 8: a store error must say which store, which operation and which object.
  test('its errors name the store, the operation and the key; the classes callers branch on stay', async () => {
    const broken = new LocalArtifactStore('/etc/hostname/store');
    await assert.rejects(broken.put('campaigns/x/a.json', '{}'), (err: Error) => {
      assert.ok(err instanceof ArtifactStoreError, err.message);
      assert.match(err.message, /^artifact store file:\/\/\/etc\/hostname\/store: put campaigns\/x\/a\.json: .*ENOTDIR/);
      return true;
    });
    const store = new LocalArtifactStore(join(localDir, 'named'));
    const missing = store.uriFor('missing');
    await assert.rejects(store.get({ uri: missing, sha256: 'x', size: 1 }), (err: Error) => err instanceof ArtifactNotFoundError && err.message.startsWith(`artifact store ${store.root}: get ${missing}: `));
    assert.throws(() => store.uriFor('../x'), (err: Error) => err instanceof InvalidArtifactKeyError && err.message.startsWith(`artifact store ${store.root}: uriFor ../x: `));
  });
});

// ---------------------------------------------------------------------------------------------------
// S3 through s3rver, with the endpoint override and path-style addressing of S3-compatible stores

describe('S3ArtifactStore against s3rver', () => {
  let server: S3rverInstance | undefined;
  const s3Dir = mkdtempSync(join(tmpdir(), 'artifact-s3rver-'));
  const s3Options: S3Options = {
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    partSize: 5 * MiB,
  };
  const requests: string[] = [];

  before(async () => {
    server = new S3rver({ port: 0, address: '127.0.0.1', directory: s3Dir, silent: true, configureBuckets: [{ name: BUCKET }] });
    const { port } = await server.run();
    server.httpServer?.on('request', (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url}`));
    s3Options.endpoint = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await server?.close();
    await rm(s3Dir, { recursive: true, force: true });
  });

  const rawClient = () => {
    const { endpoint, forcePathStyle, region, credentials } = s3Options;
    return new S3Client({ endpoint, forcePathStyle, region, credentials });
  };
  /** Replaces an object's bytes but keeps its sha256 metadata, as a rogue writer or bit rot would. */
  const tamperer = (store: ArtifactStore, prefix: string) => async (key: string, bytes: Uint8Array) => {
    const ref = await store.head(key);
    const client = rawClient();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${key}`, Body: bytes, Metadata: { sha256: ref!.sha256 } }));
    client.destroy();
  };

  contract('S3 (prefixed root)', () => {
    const store = openStore(`s3://${BUCKET}/campaign-store/`, s3Options);
    return {
      store,
      tamper: tamperer(store, 'campaign-store/'),
      outsideUris: [
        `s3://${BUCKET}/other/a`,
        `s3://other-bucket/campaign-store/a`,
        `s3://${BUCKET}/campaign-storex/a`,
        'file:///tmp/a',
        `s3://${BUCKET}/campaign-store/x.sha256`,
      ],
    };
  });

  contract('S3 (bucket root)', () => {
    const store = new S3ArtifactStore(`s3://${BUCKET}`, s3Options);
    return { store, tamper: tamperer(store, ''), outsideUris: ['s3://other-bucket/a', `s3://${BUCKET}x/a`, 'file:///tmp/a'] };
  });

  test('openStore picks S3 for s3:// URIs and normalizes the root', () => {
    assert.ok(openStore(`s3://${BUCKET}/p`, s3Options) instanceof S3ArtifactStore);
    assert.equal(openStore(`s3://${BUCKET}/p/`, s3Options).root, `s3://${BUCKET}/p`);
    assert.equal(openStore(`s3://${BUCKET}`, s3Options).uriFor('k'), `s3://${BUCKET}/k`);
    assert.throws(() => new S3ArtifactStore('s3://', s3Options), InvalidArtifactKeyError);
  });

  test('objects above partSize go through a completed multipart upload; small ones are one PUT', async () => {
    const store = new S3ArtifactStore(`s3://${BUCKET}/mp`, s3Options);
    requests.length = 0;
    const big = randomBytes(11 * MiB);
    const ref = await store.put('big.bin', big);
    const initiated = requests.filter((r) => r.startsWith('POST ') && /[?&]uploads\b/.test(r));
    const parts = requests.filter((r) => r.startsWith('PUT ') && /[?&]partNumber=/.test(r));
    const completed = requests.filter((r) => r.startsWith('POST ') && /[?&]uploadId=/.test(r));
    assert.equal(initiated.length, 1, requests.join('\n'));
    assert.equal(parts.length, 3, requests.join('\n')); // 5 + 5 + 1 MiB
    assert.equal(completed.length, 1, requests.join('\n'));
    assert.deepEqual(await store.head('big.bin'), ref);
    assert.ok(Buffer.from(await store.get(ref)).equals(big));

    requests.length = 0;
    await store.put('small.bin', 'tiny');
    assert.equal(requests.filter((r) => /[?&](uploads|partNumber|uploadId)\b/.test(r)).length, 0, requests.join('\n'));
  });

  test('objects without our sha256 metadata are not finished artifacts; reserved names are not listed', async () => {
    const client = rawClient();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'foreign/plain.txt', Body: 'not ours' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'foreign/x.sha256', Body: 'reserved', Metadata: { sha256: sha256('reserved') } }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'foreign/a\\b', Body: 'backslash', Metadata: { sha256: sha256('backslash') } }));
    client.destroy();
    const store = new S3ArtifactStore(`s3://${BUCKET}`, s3Options);
    assert.equal(await store.head('foreign/plain.txt'), undefined);
    assert.equal(await store.exists('foreign/plain.txt'), false);
    const ref = await store.put('foreign/ours.txt', 'ours');
    const listed = await store.list('foreign/');
    assert.ok(listed.includes('foreign/ours.txt'), listed.join());
    assert.ok(!listed.includes('foreign/x.sha256') && !listed.includes('foreign/a\\b'), `unusable keys listed: ${listed.join()}`);
    for (const key of listed) assert.doesNotThrow(() => store.uriFor(key));
    assert.equal(text(await store.get(ref)), 'ours');
  });

  test('list pages through more than 1000 keys (continuation tokens)', async (t) => {
    // s3rver builds continuation tokens with DES, which OpenSSL 3 only offers through its legacy
    // provider: this one test runs a second s3rver in a child process started with that provider.
    const dir = await mkdtemp(join(tmpdir(), 'artifact-s3rver-paging-'));
    // 1005 PUTs through HTTP take seconds; write the objects straight into s3rver's folder layout
    // (<bucket>/<key>._S3rver_object + ._S3rver_metadata.json) before it starts. The first list
    // assertion also proves the layout is right: a wrong one lists nothing.
    const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
    await mkdir(join(dir, BUCKET, 'many', 'k'), { recursive: true });
    await Promise.all(
      keys.map(async (key) => {
        const path = join(dir, BUCKET, 'many', ...key.split('/'));
        await writeFile(`${path}._S3rver_object`, key);
        await writeFile(`${path}._S3rver_metadata.json`, JSON.stringify({ 'content-type': 'application/octet-stream', 'x-amz-meta-sha256': sha256(key) }));
      }),
    );
    const script = `
      const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
      new S3rver({ port: 0, address: '127.0.0.1', directory: ${JSON.stringify(dir)}, silent: true, configureBuckets: [{ name: '${BUCKET}' }] })
        .run().then((a) => console.log(JSON.stringify(a)), (e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(async () => {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`s3rver child process exited with code ${code}`)));
    });
    const { port } = JSON.parse(first) as AddressInfo;
    const options: S3Options = { ...s3Options, endpoint: `http://127.0.0.1:${port}` };
    const store = new S3ArtifactStore(`s3://${BUCKET}/many`, options);
    assert.deepEqual(await store.list('k/'), keys);
    assert.deepEqual(await store.list('k/0100'), keys.slice(1000));
    assert.deepEqual(await store.head('k/01004'), { uri: `s3://${BUCKET}/many/k/01004`, sha256: sha256('k/01004'), size: 7 });
  });

  // Issue 19, item 8: "Could not load credentials from any providers", after 18 s, naming nothing.
  test('with no credentials anywhere, operations fail at once, non-retryable, naming the store, operation and key, and how to provide credentials', async (t) => {
    const saved = { ...process.env };
    t.after(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    });
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    const nowhere = join(s3Dir, 'no-such-aws-folder');
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials'), AWS_CONFIG_FILE: join(nowhere, 'config'), AWS_EC2_METADATA_DISABLED: 'true' });
    const { credentials: _none, ...anonymous } = s3Options;
    const store = openStore(`s3://${BUCKET}/no-creds`, anonymous);
    const started = Date.now();
    const credentialsError = (operation: string, key: string) => (err: Error) => {
      assert.ok(err instanceof ArtifactStoreError, `${err.name}: ${err.message}`);
      assert.ok(err.message.startsWith(`artifact store s3://${BUCKET}/no-creds: ${operation} ${key}: `), err.message);
      assert.match(err.message, /credentials/);
      assert.match(err.message, /AWS_PROFILE/);
      assert.match(err.message, /AWS_ACCESS_KEY_ID/);
      assert.match(err.message, /IAM role/);
      assert.equal(err.nonRetryable, true);
      return true;
    };
    await assert.rejects(store.put('campaigns/x/round-0000/sample/result.json', '{}'), credentialsError('put', 'campaigns/x/round-0000/sample/result.json'));
    await assert.rejects(store.exists('campaigns/x/a.json'), credentialsError('head', 'campaigns/x/a.json'));
    await assert.rejects(checkWritable(store), (err: Error) => err instanceof ArtifactStoreError && err.message.startsWith(`artifact store s3://${BUCKET}/no-creds: put _preflight/`) && /AWS_PROFILE/.test(err.message));
    // Generous for a loaded machine; the fix that matters is nonRetryable (no activity retries).
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  test('cleanupTemp has nothing to remove (multipart uploads abort on error)', async () => {
    assert.equal(await new S3ArtifactStore(`s3://${BUCKET}`, s3Options).cleanupTemp(0), 0);
  });
});

// ---------------------------------------------------------------------------------------------------
// S3 through moto's server: a second, independent S3 implementation (Python) of the same protocol

/** A loopback port that was free a moment ago (moto_server takes a port number, not 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const motoServer = findDeployTool('moto_server');
if (!motoServer) {
  // CI runs setup, so there a missing moto_server is a failed install, not a reason to skip.
  const message = `moto_server is not installed; install it with ${INSTALL_COMMAND}`;
  test('S3ArtifactStore against moto_server', (t) => (process.env.CI ? assert.fail(message) : t.skip(message)));
} else {
  describe('S3ArtifactStore against moto_server', () => {
    let child: ReturnType<typeof spawn> | undefined;
    let output = '';
    const s3Options: S3Options = {
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
      partSize: 5 * MiB,
    };
    const rawClient = () => {
      const { endpoint, forcePathStyle, region, credentials } = s3Options;
      return new S3Client({ endpoint, forcePathStyle, region, credentials });
    };

    before(async () => {
      const port = await freePort();
      child = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`moto_server exited with code ${code}:\n${output}`))));
      exited.catch(() => {}); // observed through the race below only while starting
      s3Options.endpoint = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const up = await Promise.race([fetch(`${s3Options.endpoint}/`).then((r) => r.ok, () => false), exited]);
        if (up) break;
        if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${s3Options.endpoint} within 30 s:\n${output}`);
        await sleep(200);
      }
      const client = rawClient();
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      client.destroy();
    });
    after(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(5000).then(() => child!.kill('SIGKILL'))]);
      }
    });

    const tamperer = (store: ArtifactStore, prefix: string) => async (key: string, bytes: Uint8Array) => {
      const ref = await store.head(key);
      const client = rawClient();
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${key}`, Body: bytes, Metadata: { sha256: ref!.sha256 } }));
      client.destroy();
    };

    contract('S3 on moto (prefixed root)', () => {
      const store = openStore(`s3://${BUCKET}/campaign-store/`, s3Options);
      return {
        store,
        tamper: tamperer(store, 'campaign-store/'),
        outsideUris: [`s3://${BUCKET}/other/a`, `s3://other-bucket/campaign-store/a`, `s3://${BUCKET}/campaign-storex/a`, 'file:///tmp/a', `s3://${BUCKET}/campaign-store/x.sha256`],
      };
    });

    contract('S3 on moto (bucket root)', () => {
      const store = new S3ArtifactStore(`s3://${BUCKET}`, s3Options);
      return { store, tamper: tamperer(store, ''), outsideUris: ['s3://other-bucket/a', `s3://${BUCKET}x/a`, 'file:///tmp/a'] };
    });

    test('list pages through more than 1000 keys (moto\'s own continuation tokens)', async () => {
      const store = new S3ArtifactStore(`s3://${BUCKET}/many`, s3Options);
      const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, key)));
      assert.deepEqual(await store.list('k/'), keys);
      assert.deepEqual(await store.list('k/0100'), keys.slice(1000));
    });

    test('objects without our sha256 metadata are not finished artifacts', async () => {
      const client = rawClient();
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'foreign/plain.txt', Body: 'not ours' }));
      client.destroy();
      const store = new S3ArtifactStore(`s3://${BUCKET}`, s3Options);
      assert.equal(await store.head('foreign/plain.txt'), undefined);
      assert.equal(await store.exists('foreign/plain.txt'), false);
    });
  });
}
