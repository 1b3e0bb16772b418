// Checkpoints: a round trip through the artifact store (weights, config, ONNX export beside them)
// and every kind of damage refused with an error that names the file and the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { initTf } from '../../../lib/models/backend';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../../../lib/models/checkpoint';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator, onnxKeyOf, saveGenerator, sampleWithTf, weightsDigest } from '../../../lib/models/generator-serving';
import { generatorParamShapes } from '../../../lib/models/generator';
import { tinyGenerator } from './fixtures';

let dir: string;
let store: ArtifactStore;

before(async () => {
  await initTf(() => {});
  dir = await mkdtemp(join(tmpdir(), 'dual-ipo-ckpt-'));
  store = openStore(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const small = () => ({ kind: 'test', config: { width: 3 }, meta: { note: 'x' }, params: { 'l.w': { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, 'l.b': { shape: [3], data: Float32Array.from([0.5, -1, 2]) } } });
const shapesFor = (c: { width: number }) => ({ 'l.w': [2, c.width], 'l.b': [c.width] });

describe('checkpoint format', () => {
  test('encode / decode round trip keeps kind, config, meta and every value', () => {
    const ckpt = decodeCheckpoint<{ width: number }>(encodeCheckpoint(small()), 'mem', { kind: 'test', shapesFor });
    assert.equal(ckpt.kind, 'test');
    assert.deepEqual(ckpt.config, { width: 3 });
    assert.deepEqual(ckpt.meta, { note: 'x' });
    assert.deepEqual(Array.from(ckpt.params['l.w']!.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(ckpt.params['l.b']!.shape, [3]);
  });

  test('damage is refused, naming the file and the field', () => {
    const good = encodeCheckpoint(small());
    const flipped = good.slice();
    flipped[flipped.length - 2]! ^= 0xff;
    assert.throws(() => decodeCheckpoint(flipped, 'w.ckpt'), (e: Error) => e instanceof CheckpointError && /checkpoint w\.ckpt: bodySha256: weights are corrupt/.test(e.message));
    const magic = good.slice();
    magic[0] = 0x58;
    assert.throws(() => decodeCheckpoint(magic, 'w.ckpt'), /checkpoint w\.ckpt: magic: expected "DIPOCKPT"/);
    assert.throws(() => decodeCheckpoint(good.subarray(0, 40), 'w.ckpt'), /checkpoint w\.ckpt: header length: .* runs past the end/);
    assert.throws(() => decodeCheckpoint(good.subarray(0, 8), 'w.ckpt'), /too short/);
    const header = good.slice();
    header[12] = 0x78; // 'x' where the JSON object should open
    assert.throws(() => decodeCheckpoint(header, 'w.ckpt'), /checkpoint w\.ckpt: header: not valid JSON/);
    assert.throws(() => decodeCheckpoint(good, 'w.ckpt', { kind: 'generator' }), /checkpoint w\.ckpt: header\.kind: expected a "generator" checkpoint, got "test"/);
    assert.throws(() => decodeCheckpoint(good, 'w.ckpt', { shapesFor: () => ({ 'l.w': [3, 2], 'l.b': [3] }) }), /checkpoint w\.ckpt: tensor "l\.w" has shape \[2, 3\] but the config expects \[3, 2\]/);
    assert.throws(() => decodeCheckpoint(good, 'w.ckpt', { shapesFor: () => ({ 'l.w': [2, 3], 'l.b': [3], 'l.g': [3] }) }), /checkpoint w\.ckpt: missing tensor "l\.g"/);
    const nan = small();
    nan.params['l.b'].data[1] = Number.NaN;
    assert.throws(() => decodeCheckpoint(encodeCheckpoint(nan), 'w.ckpt', { shapesFor }), /tensor "l\.b" contains a non-finite value at index 1/);
  });

  test('through the artifact store: saved atomically, sha256-verified on load, corruption refused', async () => {
    const ref = await saveCheckpoint(store, 'models/small.ckpt', small());
    const loaded = await loadCheckpoint<{ width: number }>(store, ref, { kind: 'test', shapesFor });
    assert.deepEqual(Array.from(loaded.params['l.b']!.data), [0.5, -1, 2]);
    const path = fileURLToPath(ref.uri);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(path, bytes);
    await assert.rejects(loadCheckpoint(store, ref), (e: Error) => e instanceof CheckpointError && e.message.includes(ref.uri) && /corrupt/.test(e.message));
  });
});

describe('generator checkpoint', () => {
  test('round-trips through the store and its ONNX export, and samples the same videos', async () => {
    const model = tinyGenerator('roundtrip');
    const ref = await saveGenerator(store, 'models/generator.ckpt', model);
    assert.equal(typeof ref.summary?.onnxSha256, 'string');
    const loaded = await loadGenerator(store, ref);
    assert.deepEqual(loaded.config, model.config);
    assert.equal(weightsDigest(loaded.params), weightsDigest(model.params));
    assert.deepEqual(Object.keys(loaded.params).sort(), Object.keys(generatorParamShapes(model.config)).sort());
    // The stored ONNX file is the one served (its metadata names these weights), and it samples what tfjs samples.
    const onnxRef = await store.head(onnxKeyOf('models/generator.ckpt'));
    assert.equal(onnxRef?.sha256, ref.summary?.onnxSha256);
    const session = await OnnxGenerator.create(loaded, await generatorOnnxBytes(store, ref, loaded), { threads: 1 });
    const requests = [{ prompt: 'A medium green bird flies upward in a forest.', seed: 5 }];
    const served = await session.sample(requests);
    await session.release();
    const direct = sampleWithTf(model, requests);
    let diff = 0;
    served.videos[0]!.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - direct.videos[0]!.data[i]!))));
    assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  });

  test('a checkpoint whose config does not match its tensors is refused by name', async () => {
    const model = tinyGenerator('mismatch');
    const wrong = { ...model, config: { ...model.config, denoiser: { ...model.config.denoiser, hidden: 48 } } };
    const ref = await store.put('models/wrong.ckpt', encodeCheckpoint({ kind: 'generator', config: wrong.config, meta: {}, params: model.params }));
    await assert.rejects(loadGenerator(store, ref), /checkpoint .*wrong\.ckpt: tensor "den\.\S+" has shape \[\d+(, \d+)?\] but the config expects/);
    const critic = await store.put('models/other.ckpt', encodeCheckpoint({ kind: 'critic', config: {}, meta: {}, params: {} }));
    await assert.rejects(loadGenerator(store, critic), /header\.kind: expected a "generator" checkpoint, got "critic"/);
  });
});
