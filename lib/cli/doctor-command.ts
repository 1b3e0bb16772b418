// `dual-ipo doctor`: is this machine ready to run campaigns with the builtin backend? Checks the
// tfjs backend (chosen at run time: tfjs-node-gpu, tfjs-node, wasm), onnxruntime-node (a tiny model
// built and run), the Temporal binaries (or, given a cluster, the cluster: connection, server version,
// namespace, search attributes), and the artifact store (write, read back, verify, delete).
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, targetOverrides, type Options } from './args';
import { resolveTarget, type TemporalTarget } from '../temporal/target';
import { manualRegistrationCommand, missingSearchAttributes } from '../temporal/search-attributes';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';
import { openStore } from '../artifacts';
import { findTemporalCli, findTestServer } from '../temporal/binary';
import { describeBackend, initTf } from '../models/backend';
import { OnnxOps } from '../models/onnx/graph';
import { OnnxModel, onnxRuntimeVersion } from '../models/onnx/runtime';

export const DOCTOR_OPTIONS = { store: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const DOCTOR_HELP = `Usage: dual-ipo doctor [--store URI | --config FILE] [--json] [--address HOST:PORT] [--namespace NS]

Checks what the builtin backend needs on this machine:
  tfjs          the training backend chosen at run time (tfjs-node-gpu, then tfjs-node, then wasm)
  onnxruntime   onnxruntime-node loads and runs a small model (sampling and labelling run on it)
  temporal      without a cluster: the Temporal CLI (dev server) and the test server binaries;
                with TEMPORAL_ADDRESS or --address: the cluster instead (connection, server
                version, namespace, the campaign search attributes), no local binaries needed
  store         the artifact store accepts an atomic write, returns the bytes with the same sha256,
                and deletes them

Options:
  --store URI           artifact store to check (file:///abs, a path, or s3://bucket/prefix)
  --config FILE         take the store from a campaign config (artifacts.root, artifacts.s3)
  --json                print one JSON object instead of the table
${CONNECT_HELP}
  -h, --help            show this help

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

export async function runDoctor(opts: { store?: string; s3?: { region?: string; endpoint?: string; forcePathStyle?: boolean }; cluster?: TemporalTarget } = {}): Promise<DoctorCheck[]> {
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
  if (opts.cluster) checks.push(...(await clusterChecks(opts.cluster)));
  else {
    checks.push(await check('temporal cli', () => describeBinary(findTemporalCli())));
    checks.push(await check('temporal test server', () => describeBinary(findTestServer())));
  }
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

const CLUSTER_TIMEOUT_MS = 15_000;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;

/** A cluster's checks; after a failed connection the others are reported as not run rather than failing one by one. */
async function clusterChecks(target: TemporalTarget): Promise<DoctorCheck[]> {
  let connection: Connection | undefined;
  const connect = await check('temporal connection', () => withTimeout(CLUSTER_TIMEOUT_MS, `no answer from ${target.address}`, async () => {
    connection = await Connection.connect({ address: target.address, tls: target.tls ?? false, ...(target.apiKey ? { apiKey: target.apiKey } : {}), connectTimeout: CLUSTER_TIMEOUT_MS });
    return `${target.address}${target.tls ? ' (TLS)' : ''}${target.apiKey ? ' (API key)' : ''}`;
  }));
  if (!connection) return [connect, ...['temporal server', 'temporal namespace', 'search attributes'].map((name) => ({ name, ok: false, detail: 'not checked: no connection' }))];
  const c = connection;
  try {
    return [
      connect,
      await check('temporal server', async () => {
        const info = await c.workflowService.getSystemInfo({});
        return `Temporal server ${info.serverVersion || '(version not reported)'}`;
      }),
      await check('temporal namespace', async () => {
        const ns = await c.workflowService.describeNamespace({ namespace: target.namespace });
        const retention = ns.config?.workflowExecutionRetentionTtl?.seconds;
        return `${target.namespace}${retention ? `, retention ${Math.round(Number(retention) / 86400)} d` : ''}`;
      }),
      await check('search attributes', async () => {
        const missing = await missingSearchAttributes(c, target.namespace).catch((err: unknown) => {
          // Temporal Cloud has no operator service for API keys: there the attributes live in the Cloud UI / tcld.
          if (isGrpcServiceError(err) && (err.code === GRPC_PERMISSION_DENIED || err.code === GRPC_UNIMPLEMENTED)) return undefined;
          throw err;
        });
        if (!missing) return `cannot be listed on this cluster (Temporal Cloud?): check them in its UI or with tcld`;
        if (missing.length) throw new Error(`missing on ${target.namespace}: ${missing.join(', ')}; a worker registers them at start, or by hand:\n${manualRegistrationCommand(target.namespace)}`);
        return `the campaign's ${SEARCH_ATTRIBUTE_KEYS.length} search attributes are registered`;
      }),
    ];
  } finally {
    await c.close();
  }
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
  const { values, help } = parse(argv, DOCTOR_OPTIONS, DOCTOR_HELP);
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
  const target = resolveTarget(targetOverrides(values));
  const checks = await runDoctor({ ...(store ? { store } : {}), ...(s3 ? { s3 } : {}), ...(target.embedded ? {} : { cluster: target }) });
  if (values.json) console.log(JSON.stringify({ ok: checks.every((c) => c.ok), checks }));
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
