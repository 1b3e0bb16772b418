// The bootstrap's critic branch: the human seed and test sets (annotated by the world's panel) and
// the critic's warm start on the seed set, with its agreement on the test set. When the human sets do
// not need the base generator (generatorShare 0), this branch shares nothing with the generator's
// training, so the bootstrap runs it in a worker thread beside it: 2 cores, two branches.
import { Worker } from 'node:worker_threads';
import type { ArtifactRef, ArtifactStore } from '../../../artifacts';
import { criticAgreement, criticExamples, CriticOnnx, exportCriticOnnx, initCritic, loadCritic, saveCritic, warmStartCritic } from '../../../models/critic';
import { fromPairRecord, getManifest, getVideos, putVideos, toPairRecords, type HumanSet } from '../../../models/datasets';
import type { OnnxGenerator } from '../../../models/generator-serving';
import { buildHumanSet } from '../../../models/human-sets';
import type { Sizes } from '../../../models/sizes';

export interface CriticBranchArgs {
  /** Cache folder of this bootstrap (keys end in /). */
  prefix: string;
  seed: string;
  sizes: Sizes;
  vocab: string[];
  paths: number;
  runtime: { threads?: number };
}

export interface CriticBranchResult {
  humanSeed: ArtifactRef;
  humanTest: ArtifactRef;
  critic: ArtifactRef;
  metrics: Record<string, number>;
}

type Report = (fraction: number, message: string) => Promise<void> | void;

export async function criticBranch(store: ArtifactStore, args: CriticBranchArgs, report: Report, opts: { generator?: OnnxGenerator; signal?: AbortSignal } = {}): Promise<CriticBranchResult> {
  const { prefix, seed, sizes } = args;
  const metrics: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await f();
    metrics[`seconds_${name}`] = (performance.now() - t) / 1000;
    return out;
  };
  const humanSet = async (split: 'seed' | 'heldout-test', pairs: number, name: string, lo: number, hi: number) => {
    const existing = await store.head(`${prefix}${name}.json`);
    if (existing) {
      const set = await getManifest<HumanSet>(store, existing, 'dual-ipo/human-set@1', name);
      return { ref: existing, records: toPairRecords(set, await getVideos(store, set.videos)) };
    }
    const built = await buildHumanSet({
      split,
      pairs,
      seed,
      generator: opts.generator,
      generatorShare: opts.generator ? sizes.generatorShare : 0,
      ...(sizes.humanEvidence ? { evidence: sizes.humanEvidence } : {}),
      signal: opts.signal,
      onProgress: (done, total) => report(lo + ((hi - lo) * done) / total, `human ${split} set: ${done}/${total} pairs annotated`),
    });
    const set: HumanSet = {
      format: 'dual-ipo/human-set@1',
      split,
      records: built.records.map(fromPairRecord),
      videos: await putVideos(
        store,
        `${prefix}${name}/videos.dipv`,
        built.records.flatMap((r) => [r.a.video!, r.b.video!]),
        built.records.flatMap((r) => [`${r.id}/a`, `${r.id}/b`]),
      ),
      stats: built.stats,
    };
    return { ref: await store.putJson(`${prefix}${name}.json`, set, { summary: { split, pairs: built.records.length } }), records: built.records };
  };
  const seedSet = await timed('human-seed', () => humanSet('seed', sizes.humanSeedPairs, 'human-seed', 0, 0.45));
  const testSet = await timed('human-test', () => humanSet('heldout-test', sizes.humanTestVideos / 2, 'human-test', 0.45, 0.55));
  // From the pixels as built (the stored sets are uint8; criticTrain and validate read those, and
  // cache their features, critic-features.ts).
  const featureVersion = sizes.critic.featureVersion;
  const featuresOf = (records: typeof seedSet.records, name: string) =>
    criticExamples(records, { featureVersion, onProgress: (done) => report(0.55 + (0.05 * done) / records.length, `critic features of the ${name} set: ${done}/${records.length} pairs`) });
  const seedExamples = await timed('critic-features', () => featuresOf(seedSet.records, 'seed'));
  const testExamples = await featuresOf(testSet.records, 'test');

  const existing = await store.head(`${prefix}critic.ckpt`);
  let criticRef: ArtifactRef;
  let critic;
  if (existing) {
    criticRef = existing;
    critic = await loadCritic(store, existing);
  } else {
    const trained = await timed('critic-warm-start', () =>
      warmStartCritic(initCritic(sizes.critic, args.vocab, `${seed}/critic-base`), seedExamples, {
        ...(sizes.criticEpochs ? { epochs: sizes.criticEpochs } : {}),
        ...(sizes.criticLearningRate ? { lr: sizes.criticLearningRate } : {}),
        seed,
        signal: opts.signal,
        onProgress: async ({ step, steps }) => {
          if (step % 10 === 0) await report(0.6 + (0.35 * step) / steps, `critic warm start step ${step}/${steps}`);
        },
      }),
    );
    critic = trained.model;
    metrics.criticWarmLossFirst = trained.metrics.lossFirst;
    metrics.criticWarmLossFinal = trained.metrics.lossFinal;
    await store.put(`${prefix}critic.ckpt.onnx`, exportCriticOnnx(critic));
    criticRef = await saveCritic(store, `${prefix}critic.ckpt`, critic, { createdBy: 'bootstrap' }, { version: 'c0' });
  }
  const agreement = await timed('critic-validate', async () => {
    const exec = await CriticOnnx.create(critic, args.runtime);
    try {
      return await criticAgreement(exec, testExamples, { paths: args.paths, seed: `${seed}/validate` });
    } finally {
      await exec.release();
    }
  });
  await report(1, `critic warm-started: pairwise agreement ${agreement.pairwise.agreement.toFixed(3)} on the held-out human test set`);
  return {
    humanSeed: seedSet.ref,
    humanTest: testSet.ref,
    critic: criticRef,
    metrics: {
      ...metrics,
      criticAgreementPairwise: agreement.pairwise.agreement,
      criticAgreementPointwise: agreement.pointwise.agreement,
      ...Object.fromEntries(Object.entries(agreement.perDimension).flatMap(([d, a]) => [[`criticAgreementPairwise_${d}`, a.pairwise], [`criticAgreementPointwise_${d}`, a.pointwise]])),
      humanSeedPairs: seedExamples.length,
      humanTestPairs: testExamples.length,
    },
  };
}

/** Runs the critic branch in a worker thread; resolves with its result, rejects with its error. */
export function criticBranchInWorker(storeLocation: { root: string; s3?: Record<string, unknown> }, args: CriticBranchArgs, report: Report, signal?: AbortSignal): Promise<CriticBranchResult> {
  return new Promise((resolve, reject) => {
    // A worker does not inherit tsx's loader (Node 20 refuses a .ts entry even with --import tsx in
    // its execArgv), so a tiny bootstrap script registers tsx in the worker, then imports the entry.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./critic-worker.ts', import.meta.url).href;
    const script = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(script, { eval: true, workerData: { store: storeLocation, args } });
    const abort = () => void worker.postMessage({ type: 'abort' });
    signal?.addEventListener('abort', abort, { once: true });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      f();
    };
    worker.on('message', (m: { type: 'progress'; fraction: number; message: string } | { type: 'done'; result: CriticBranchResult } | { type: 'error'; message: string; name: string; nonRetryable?: boolean }) => {
      if (m.type === 'progress') void report(m.fraction, m.message);
      else if (m.type === 'done') {
        finish(() => resolve(m.result));
        void worker.terminate();
      }
      else finish(() => reject(Object.assign(new Error(m.message), { name: m.name, nonRetryable: m.nonRetryable })));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`bootstrap critic worker exited with code ${code} before finishing`))));
  });
}
