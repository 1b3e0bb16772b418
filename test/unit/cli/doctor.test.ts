// The run-time choice of the tfjs backend and `dual-ipo doctor`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initTf } from '../../../lib/models/backend';
import { doctorCommand, runDoctor } from '../../../lib/cli/doctor-command';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dual-ipo-doctor-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tfjs backend selection', () => {
  test('tries tfjs-node-gpu, then tfjs-node, then wasm; logs the choice once', async () => {
    const lines: string[] = [];
    const choice = await initTf((l) => lines.push(l));
    const again = await initTf((l) => lines.push(l));
    assert.equal(again, choice);
    assert.ok(lines.length <= 1);
    assert.equal(tf.getBackend(), choice.backend);
    // Here the native packages are optional dependencies that are not installed.
    if (choice.backend === 'wasm') {
      assert.deepEqual(choice.skipped.map((s) => s.package), ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      assert.match(describeBackend(choice), /^wasm \(@tensorflow\/tfjs-backend-wasm\), simd (yes|no)/);
    }
  });
});

describe('dual-ipo doctor', () => {
  test('checks tfjs, onnxruntime, the Temporal binaries and the artifact store', async () => {
    const checks = await runDoctor({ store: join(dir, 'store') });
    assert.deepEqual(checks.map((c) => c.name), ['tfjs', 'onnxruntime', 'temporal cli', 'temporal test server', 'artifact store']);
    for (const name of ['tfjs', 'onnxruntime', 'artifact store']) assert.ok(checks.find((c) => c.name === name)!.ok, JSON.stringify(checks));
    assert.match(checks.find((c) => c.name === 'onnxruntime')!.detail, /onnxruntime-node \d+\.\d+/);
  });

  test('--help prints the usage and returns 0; an unwritable store fails the check and returns 1', async () => {
    const log = console.log;
    const out: string[] = [];
    console.log = (s: string) => void out.push(s);
    try {
      assert.equal(await doctorCommand(['--help']), 0);
      assert.match(out.join('\n'), /Usage: dual-ipo doctor/);
      out.length = 0;
      // A store root below a regular file cannot be written.
      await writeFile(join(dir, 'plain-file'), 'x');
      assert.equal(await doctorCommand(['--store', join(dir, 'plain-file', 'store'), '--json']), 1);
      const report = JSON.parse(out.join('\n')) as { ok: boolean; checks: { name: string; ok: boolean }[] };
      assert.equal(report.ok, false);
      assert.equal(report.checks.find((c) => c.name === 'artifact store')!.ok, false);
    } finally {
      console.log = log;
    }
  });
});
