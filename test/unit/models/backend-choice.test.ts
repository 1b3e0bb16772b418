// Choosing the tfjs backend when a native package loads but cannot run (tfjs-node-gpu without CUDA,
// as in a CPU-only container that installed both optional packages): the next candidate registers
// the same kernels, and tfjs would print one "already registered" warning per kernel (~155 lines).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { choose } from '../../../lib/models/backend';

test('a native package that fails leaves nothing behind for the next one to collide with', async () => {
  const loaded: string[] = [];
  // Each fake package does what tfjs-node does on import: registers the 'tensorflow' backend and its kernels.
  const load = async (pkg: string) => {
    loaded.push(pkg);
    tf.registerBackend('tensorflow', () => {
      throw new Error(`${pkg}: libtensorflow not usable here`);
    });
    for (let i = 0; i < 155; i++) tf.registerKernel({ kernelName: `FakeKernel${i}`, backendName: 'tensorflow', kernelFunc: () => [] as never });
  };
  const warnings: string[] = [];
  const warn = mock.method(console, 'warn', (...args: unknown[]) => void warnings.push(args.join(' ')));
  try {
    const choice = await choose(undefined, load);
    assert.deepEqual(loaded, ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    assert.deepEqual(choice.skipped.map((s) => s.package).slice(0, 2), loaded);
    assert.notEqual(choice.backend, 'tensorflow');
  } finally {
    warn.mock.restore();
  }
  assert.deepEqual(warnings.filter((w) => /already registered/.test(w)), []);
  assert.equal(tf.getKernelsForBackend('tensorflow').length, 0);
});
