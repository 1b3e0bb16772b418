// Round lineage manifests: inputs, outputs, config hash, code version, critic and generator versions,
// gate figures and decisions, approvals and stage timings, written once per round and read back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactIntegrityError, ArtifactNotFoundError, LocalArtifactStore } from '../../../lib/artifacts/index';
import {
  codeVersion,
  configHash,
  manifestKey,
  outputPrefix,
  readManifest,
  sha256Hex,
  stableStringify,
  writeManifest,
  type RoundManifest,
} from '../../../lib/artifacts/manifest';

const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };

let dir: string;
let store: LocalArtifactStore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'artifact-manifest-'));
  store = new LocalArtifactStore(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sampleManifest(overrides: Partial<RoundManifest> = {}): Promise<RoundManifest> {
  const critic = await store.put('campaigns/c-1/round-0002/critic-refine/critic.onnx', 'critic weights');
  const pairs = await store.putJson('campaigns/c-1/round-0002/sample/pairs.json', [{ a: 1, b: 2 }], { summary: { pairs: 1 } });
  const generator = await store.put('campaigns/c-1/round-0002/train-generator/lora.safetensors', 'lora weights');
  return {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: 'c-1',
    round: 2,
    status: 'accepted',
    reason: 'eval gate passed',
    configHash: configHash({ lr: 1e-5, beta: 0.1 }),
    codeVersion: '',
    critic: { before: 'critic@r1', after: 'critic@r2', refined: true, accepted: true },
    generator: { before: 'gen@r1', after: 'gen@r2', accepted: true },
    inputs: { critic, pairs },
    outputs: { generator },
    gates: [
      { gate: 'critic', round: 2, accepted: true, reason: 'agreement 81.33% >= 75.00%', figures: { agreement: 0.8133, threshold: 0.75 } },
      {
        gate: 'eval',
        round: 2,
        accepted: true,
        reason: 'total within tolerance',
        figures: { total: 82.69, championTotal: 82.74, tolerance: 0.1 },
        approval: { by: 'alice', decision: 'accept', reason: 'looks right', at: '2026-01-02T03:04:05.000Z', timedOut: false },
      },
    ],
    rollbacks: [{ what: 'critic', from: 'critic@r2', to: 'critic@r1', reason: 'example' }],
    stages: [
      { stage: 'sample', seconds: 12.5, reused: false, startedAt: '2026-01-02T03:00:00.000Z', metrics: { videos: 64 } },
      { stage: 'train', step: 'generator', seconds: 301.25, reused: true, startedAt: '2026-01-02T03:00:13.000Z', metrics: { loss: 0.41 } },
    ],
    evaluation: { total: 82.69, quality: 84.1, semantic: 77.0 },
    championEvaluation: { total: 82.74, quality: 84.2, semantic: 77.0 },
    startedAt: '2026-01-02T03:00:00.000Z',
    finishedAt: '2026-01-02T03:06:00.000Z',
    ...overrides,
  };
}

describe('round manifests', () => {
  test('writeManifest/readManifest round trip by ref and by key; codeVersion filled in', async () => {
    const manifest = await sampleManifest();
    const ref = await writeManifest(store, manifest);
    assert.equal(ref.uri, store.uriFor(manifestKey('c-1', 2)));
    assert.equal(store.keyOf(ref.uri), 'campaigns/c-1/round-0002/manifest.json');
    assert.deepEqual(ref.summary, { status: 'accepted', round: 2 });
    assert.equal(ref.sha256, createHash('sha256').update(await readFile(fileURLToPath(ref.uri))).digest('hex'));

    const expected = { ...manifest, codeVersion: codeVersion() };
    assert.deepEqual(await readManifest(store, ref), expected);
    assert.deepEqual(await readManifest(store, manifestKey('c-1', 2)), expected);
    assert.ok(expected.codeVersion.startsWith(pkg.version), expected.codeVersion);
    assert.match(expected.codeVersion, /^\d+\.\d+\.\d+(\+[0-9a-f]{4,40})?$/);

    // Everything the issue lists is in the stored record.
    const stored = await readManifest(store, ref);
    assert.deepEqual(Object.keys(stored.inputs), ['critic', 'pairs']);
    assert.equal(stored.inputs.pairs?.summary?.pairs, 1);
    assert.equal(stored.outputs.generator?.size, 'lora weights'.length);
    assert.equal(stored.gates[1]?.approval?.by, 'alice');
    assert.equal(stored.gates[0]?.figures.agreement, 0.8133);
    assert.equal(stored.stages[1]?.seconds, 301.25);
    assert.equal(stored.critic.after, 'critic@r2');
    assert.equal(stored.generator.before, 'gen@r1');
    // The manifest's own inputs still verify against the store.
    assert.equal(Buffer.from(await store.get(stored.inputs.critic!)).toString(), 'critic weights');
  });

  test('an explicit codeVersion is kept; rewriting a round replaces its manifest', async () => {
    const manifest = await sampleManifest({ round: 3, codeVersion: '9.9.9+abc1234', status: 'rejected' });
    await writeManifest(store, manifest);
    const ref = await writeManifest(store, { ...manifest, reason: 'rewritten' });
    const back = await readManifest(store, manifestKey('c-1', 3));
    assert.equal(back.codeVersion, '9.9.9+abc1234');
    assert.equal(back.reason, 'rewritten');
    assert.deepEqual(ref.summary, { status: 'rejected', round: 3 });
    assert.deepEqual(
      (await store.list('campaigns/c-1/')).filter((k) => k.endsWith('manifest.json')),
      ['campaigns/c-1/round-0002/manifest.json', 'campaigns/c-1/round-0003/manifest.json'],
    );
  });

  test('the manifest bytes are stable JSON: the same manifest always has the same sha256', async () => {
    const manifest = await sampleManifest({ round: 4, codeVersion: '1.0.0' });
    const a = await writeManifest(store, manifest);
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as unknown as RoundManifest;
    const b = await writeManifest(store, reordered);
    assert.equal(a.sha256, b.sha256);
    assert.equal(await readFile(fileURLToPath(a.uri), 'utf8'), stableStringify({ ...manifest }, 2));
  });

  test('a missing manifest → ArtifactNotFoundError naming the URI', async () => {
    await assert.rejects(readManifest(store, manifestKey('c-1', 77)), (err: unknown) => {
      assert.ok(err instanceof ArtifactNotFoundError, String(err));
      assert.ok(err.message.includes(store.uriFor('campaigns/c-1/round-0077/manifest.json')), err.message);
      return true;
    });
    const ref = { uri: store.uriFor(manifestKey('c-1', 78)), sha256: sha256Hex('{}'), size: 2 };
    await assert.rejects(readManifest(store, ref), ArtifactNotFoundError);
  });

  test('a tampered manifest → ArtifactIntegrityError; a JSON file that is no manifest is refused', async () => {
    const ref = await writeManifest(store, await sampleManifest({ round: 5 }));
    const path = fileURLToPath(ref.uri);
    const original = await readFile(path, 'utf8');
    await writeFile(path, original.replace('"accepted"', '"rejected"'));
    await assert.rejects(readManifest(store, ref), (err: unknown) => err instanceof ArtifactIntegrityError && err.message.includes(ref.uri));

    const notManifest = await store.putJson(manifestKey('c-1', 6), { schema: 'something/else@1' });
    await assert.rejects(readManifest(store, notManifest), /is not a round manifest \(schema "something\/else@1"/);
    await assert.rejects(readManifest(store, manifestKey('c-1', 6)), /is not a round manifest/);
  });

  test('keys: deterministic and refused for unsafe campaign ids, rounds and stage names', () => {
    assert.equal(manifestKey('camp-01', 0), 'campaigns/camp-01/round-0000/manifest.json');
    assert.equal(manifestKey('camp-01', 12345), 'campaigns/camp-01/round-12345/manifest.json');
    assert.equal(outputPrefix('camp-01', 7, 'train'), 'campaigns/camp-01/round-0007/train/');
    assert.equal(outputPrefix('camp-01', 7, 'train', 'critic'), 'campaigns/camp-01/round-0007/train-critic/');
    // A shard's folder sits under its stage's, apart from the stage's own (merged) result.
    assert.equal(outputPrefix('camp-01', 7, 'label', 'relabel', 12), 'campaigns/camp-01/round-0007/label-relabel/shards/00012/');
    assert.throws(() => outputPrefix('c', 1, 'sample', undefined, -1), /shard index/);
    assert.throws(() => outputPrefix('c', 1, 'sample', undefined, 1.5), /shard index/);
    for (const id of ['', '../x', 'a/b', '.hidden', 'a b', 'x'.repeat(129), 'a\\b']) {
      // nonRetryable: retrying a refused id only delays the error (issue 19, item 9)
      assert.throws(() => manifestKey(id, 1), (err: Error) => /campaign id/.test(err.message) && (err as { nonRetryable?: boolean }).nonRetryable === true, JSON.stringify(id));
    }
    for (const round of [-1, 1.5, NaN, Infinity]) assert.throws(() => manifestKey('c', round), /round must be a non-negative integer/);
    assert.throws(() => outputPrefix('c', 1, '../x'), /stage\/step/);
    assert.throws(() => outputPrefix('c', 1, 'train', 'a/b'), /stage\/step/);
  });
});

describe('configHash and codeVersion', () => {
  test('configHash is stable across key order at every depth, and changes with any value', () => {
    const a = { lr: 1e-5, model: { name: 'vc2', dims: [64, 32], opts: { b: 1, a: 2 } }, seed: 7 };
    const b = { seed: 7, model: { opts: { a: 2, b: 1 }, dims: [64, 32], name: 'vc2' }, lr: 1e-5 };
    assert.equal(configHash(a), configHash(b));
    assert.match(configHash(a), /^[0-9a-f]{64}$/);
    assert.equal(configHash(a), sha256Hex(stableStringify(a)));
    assert.notEqual(configHash(a), configHash({ ...a, seed: 8 }));
    assert.notEqual(configHash(a), configHash({ ...a, model: { ...a.model, dims: [32, 64] } }), 'array order matters');
    // undefined members are dropped as JSON drops them
    assert.equal(configHash({ ...a, extra: undefined }), configHash(a));
  });

  test('configHash tells apart configs that differ only in a Date (toJSON) value', () => {
    assert.notEqual(configHash({ at: new Date(0) }), configHash({ at: new Date(1) }));
    assert.equal(configHash({ at: new Date(0) }), configHash({ at: '1970-01-01T00:00:00.000Z' }));
  });

  test('codeVersion is the package version plus the git commit when there is one, per folder', async () => {
    const version = codeVersion();
    assert.ok(version.startsWith(pkg.version), version);
    const other = await mkdtemp(join(tmpdir(), 'artifact-codeversion-'));
    try {
      await writeFile(join(other, 'package.json'), JSON.stringify({ version: '3.2.1' }));
      assert.equal(codeVersion(other), '3.2.1');
      assert.equal(codeVersion(join(other, 'missing')), 'unknown');
      assert.equal(codeVersion(), version);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
