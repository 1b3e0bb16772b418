// `dual-ipo doctor`: is this machine ready to run campaigns with the builtin backend? Checks the
// tfjs backend (chosen at run time: tfjs-node-gpu, tfjs-node, wasm), onnxruntime-node (a tiny model
// built and run), the Temporal binaries, and the artifact store (write, read back, verify, delete).
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { parse } from './args';
import { openStore } from '../artifacts';
import { findTemporalCli, findTestServer } from '../temporal/binary';
import { describeBackend, initTf } from '../models/backend';
import { OnnxOps } from '../models/onnx/graph';
import { OnnxModel, onnxRuntimeVersion } from '../models/onnx/runtime';

export const DOCTOR_HELP = `Usage: dual-ipo doctor [--store URI | --config FILE] [--json]

Checks what the builtin backend needs on this machine:
  tfjs          the training backend chosen at run time (tfjs-node-gpu, then tfjs-node, then wasm)
  onnxruntime   onnxruntime-node loads and runs a small model (sampling and labelling run on it)
  temporal      the Temporal CLI (dev server) and the test server binaries
  store         the artifact store accepts an atomic write, returns the bytes with the same sha256,
                and deletes them

Options:
  --store URI     artifact store to check (file:///abs, a path, or s3://bucket/prefix)
  --config FILE   take the store from a campaign config (artifacts.root, artifacts.s3)
  --json          print one JSON object instead of the table
  -h, --help      show this help

Exit status: 0 when every check passes, 1 otherwise.`;

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

async function check(name: string, f: () => Promise<string> | string): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await f() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n').join(' | ') };
  }
}

export async function runDoctor(opts: { store?: string; s3?: { region?: string; endpoint?: string; forcePathStyle?: boolean } } = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  checks.push(
    await check('tfjs', async () => {
      const choice = await initTf(() => {});
      // A matmul whose answer is known: the backend computes, not merely loads.
      const value = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
      if (value !== 11) throw new Error(`backend ${choice.backend} computed [1 2]x[3 4]^T = ${value}, expected 11`);
      const skipped = choice.skipped.map((s) => `${s.package.replace('@tensorflow/', '')} not available`).join(', ');
      return `${describeBackend(choice)}${skipped ? `; ${skipped}` : ''}`;
    }),
  );
  checks.push(
    await check('onnxruntime', async () => {
      const g = new OnnxOps({ w: { shape: [2, 1], data: Float32Array.from([3, 4]) } });
      const bytes = g.build([{ name: 'y', value: g.matmul(g.input('x', ['batch', 2]), g.param('w')), shape: ['batch', 1] }], { graphName: 'doctor' });
      const model = await OnnxModel.load(bytes);
      try {
        const y = (await model.run({ x: { data: Float32Array.from([1, 2]), dims: [1, 2] } })).y!.data[0];
        if (y !== 11) throw new Error(`a MatMul model computed ${y}, expected 11`);
        return `onnxruntime-node ${onnxRuntimeVersion()}, CPU, ${model.threads} intra-op threads`;
      } finally {
        await model.release();
      }
    }),
  );
  checks.push(await check('temporal cli', () => describeBinary(findTemporalCli())));
  checks.push(await check('temporal test server', () => describeBinary(findTestServer())));
  checks.push(
    await check('artifact store', () => withTimeout(STORE_TIMEOUT_MS, 'the artifact store did not answer', async () => {
      const store = openStore(opts.store ?? '.data/artifacts', opts.s3);
      const key = `doctor/probe-${randomBytes(6).toString('hex')}.bin`;
      const bytes = randomBytes(4096);
      const ref = await store.put(key, bytes);
      try {
        const back = await store.get(ref);
        if (Buffer.compare(Buffer.from(back), bytes) !== 0) throw new Error(`read back different bytes from ${ref.uri}`);
        const head = await store.head(key);
        if (head?.sha256 !== ref.sha256) throw new Error(`head(${key}) does not report the sha256 written`);
      } finally {
        await store.delete(key);
      }
      return `${store.root}: atomic write, sha256-verified read and delete OK`;
    })),
  );
  return checks;
}

/** A store that never answers (an unreachable S3 endpoint, a wedged mount) fails the check instead of hanging it. */
const STORE_TIMEOUT_MS = 20_000;

function withTimeout<T>(ms: number, what: string, f: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    f().finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
      timer.unref();
    }),
  ]);
}

function describeBinary(b: { path: string; source: string }): string {
  return `${b.path} (from ${b.source})`;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, { store: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } }, DOCTOR_HELP);
  if (help) {
    console.log(DOCTOR_HELP);
    return 0;
  }
  let store = typeof values.store === 'string' ? values.store : undefined;
  let s3;
  if (!store && typeof values.config === 'string') {
    const { loadConfig } = await import('../../config/load');
    const config = loadConfig(values.config);
    store = config.artifacts.root;
    s3 = config.artifacts.s3;
  }
  const checks = await runDoctor({ ...(store ? { store } : {}), ...(s3 ? { s3 } : {}) });
  if (values.json) console.log(JSON.stringify({ ok: checks.every((c) => c.ok), checks }));
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
