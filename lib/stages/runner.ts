// Runs one stage idempotently and resumably, with or without Temporal: the same request always writes
// to the same keys, a finished and verified result is returned instead of redoing work, and progress
// checkpoints survive both a lost heartbeat and a dead worker (they are persisted in the store too).
// The host (activities/stage-activity.ts under Temporal) supplies heartbeats, the attempt number,
// the last heartbeat's details and cancellation.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openStore, type ArtifactStore } from '../artifacts';
import { outputPrefix } from '../artifacts/manifest';
import { ArtifactIntegrityError, ArtifactNotFoundError, ArtifactStoreError, InvalidArtifactKeyError } from '../artifacts/store';
import { missingOutputs, type StageContext, type StageImpl, type StageOutput, type StageRequest, type StageResult, type StoreLocation } from './contract';

const CHECKPOINT_PERSIST_INTERVAL_MS = 5_000;

export interface StageHost {
  attempt: number;
  /** Details of the last heartbeat of an earlier attempt, if the server kept any. */
  heartbeatDetails?: unknown;
  heartbeat(details: HeartbeatDetails): void;
  signal: AbortSignal;
  log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
}

export interface HeartbeatDetails {
  done: number;
  total: number;
  message?: string;
  checkpoint?: unknown;
}

export interface StageRunnerDeps {
  /** Picks the implementation for a request's backend; throws a non-retryable config error when unavailable. */
  resolveImpl(request: StageRequest): Promise<StageImpl> | StageImpl;
  scratchRoot?: string;
  host?: StageHost;
}

/** A stage's failure as the host should report it: `name` is the error type, `nonRetryable` says whether to retry. */
export class StageError extends Error {
  constructor(
    message: string,
    override readonly name: string,
    readonly nonRetryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

const stores = new Map<string, ArtifactStore>();
export function storeFor(location: StoreLocation): ArtifactStore {
  const key = JSON.stringify(location);
  let store = stores.get(key);
  if (!store) {
    store = openStore(location.root, location.s3);
    stores.set(key, store);
  }
  return store;
}

const quietHost = (): StageHost => ({
  attempt: 1,
  heartbeat: () => {},
  signal: new AbortController().signal,
  log: (level, message, fields) => {
    if (process.env.DUAL_IPO_DEBUG) console.error(`[${level}] ${message}`, fields);
  },
});

/** A stage's result file is the commit point: written last, atomically. */
export async function findFinishedResult(store: ArtifactStore, prefix: string, host: StageHost = quietHost()): Promise<StageResult | undefined> {
  const ref = await store.head(`${prefix}result.json`);
  if (!ref) return undefined;
  let result: StageResult;
  try {
    result = JSON.parse(new TextDecoder().decode(await store.get(ref))) as StageResult;
  } catch (err) {
    if (!(err instanceof SyntaxError || err instanceof ArtifactIntegrityError || err instanceof ArtifactNotFoundError)) throw err;
    host.log('warn', 'finished result is unreadable; redoing the stage', { prefix, error: (err as Error).message });
    return undefined;
  }
  // A result committed without a required output (before outputs were checked) must not be reused.
  const missing = result && typeof result === 'object' && result.outputs && typeof result.outputs === 'object' ? missingOutputs(result.stage, result.outputs) : ['outputs'];
  if (missing.length > 0) {
    host.log('warn', 'finished result lacks required outputs; redoing the stage', { prefix, missing });
    return undefined;
  }
  for (const [name, out] of Object.entries(result.outputs)) {
    const key = out.uri.slice(store.root.replace(/\/$/, '').length + 1);
    const found = await store.head(key);
    if (!found || found.sha256 !== out.sha256 || found.size !== out.size) {
      host.log('warn', 'finished result lists an output that no longer verifies; redoing the stage', { prefix, name });
      return undefined;
    }
  }
  return result;
}

export const stageLabel = (r: Pick<StageRequest, 'stage' | 'step'>) => `${r.stage}${r.step ? `-${r.step}` : ''}`;

const STORE_ERRORS = [ArtifactStoreError, ArtifactIntegrityError, ArtifactNotFoundError, InvalidArtifactKeyError];

/** The store's own errors name the store; these name the stage too (`sample (round 2): artifact store ...`). */
async function inStage<T>(request: StageRequest, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!STORE_ERRORS.some((E) => err instanceof E)) throw err;
    const e = err as Error & { nonRetryable?: boolean };
    throw new StageError(`${stageLabel(request)} (round ${request.round}): ${e.message}`, e.name, e.nonRetryable === true, err);
  }
}

export async function runStage(request: StageRequest, deps: StageRunnerDeps): Promise<StageResult> {
  const host = deps.host ?? quietHost();
  const store = storeFor(request.store);
  const prefix = outputPrefix(request.campaignId, request.round, request.stage, request.step, request.shard?.index);
  const finished = await inStage(request, () => findFinishedResult(store, prefix, host));
  if (finished) return { ...finished, reused: true };

  const impl = await deps.resolveImpl(request);
  const checkpointKey = `${prefix}checkpoint.json`;
  let checkpoint: unknown = (host.heartbeatDetails as HeartbeatDetails | undefined)?.checkpoint;
  if (checkpoint === undefined) {
    const persisted = await inStage(request, () => store.head(checkpointKey));
    if (persisted) checkpoint = JSON.parse(new TextDecoder().decode(await inStage(request, () => store.get(persisted))));
  }

  const scratchDir = join(deps.scratchRoot ?? join(tmpdir(), 'dual-ipo-scratch'), prefix, `attempt-${host.attempt}`);
  await mkdir(scratchDir, { recursive: true });
  // Checkpoints reach the store at once the first time, then at most every interval, and the latest
  // one is written when the interval ends (timer) and before the stage returns or fails: a stage
  // shorter than the interval, or one that goes quiet, does not lose its progress.
  let lastPersist = 0;
  let lastPersisted: string | undefined;
  let latest: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(async () => {
      if (latest === undefined || latest === lastPersisted) return;
      const text = latest;
      lastPersist = Date.now();
      lastPersisted = text;
      await inStage(request, () => store.put(checkpointKey, text));
    });
    return writing;
  };
  const flushCheckpoint = async () => {
    await persist().catch((err: Error) => host.log('warn', 'could not persist the last checkpoint', { stage: request.stage, round: request.round, error: err.message }));
  };

  const ctx: StageContext = {
    request,
    store,
    outputKey: (name) => `${prefix}${name}`,
    checkpoint,
    signal: host.signal,
    scratchDir,
    log: (message, fields) => host.log('info', message, { stage: request.stage, round: request.round, ...fields }),
    async progress(done, total, newCheckpoint, message) {
      const details: HeartbeatDetails = { done, total, message, checkpoint: newCheckpoint ?? checkpoint };
      if (newCheckpoint !== undefined) checkpoint = newCheckpoint;
      host.heartbeat(details);
      if (newCheckpoint === undefined) return;
      latest = JSON.stringify(newCheckpoint);
      if (latest === lastPersisted) return;
      const wait = lastPersist + CHECKPOINT_PERSIST_INTERVAL_MS - Date.now();
      if (wait <= 0) await persist();
      else timer ??= setTimeout(() => void flushCheckpoint(), wait);
    },
  };

  const startedAt = new Date();
  host.heartbeat({ done: 0, total: 1, message: 'started', checkpoint });
  let output: StageOutput;
  try {
    output = await impl(ctx);
  } catch (err) {
    await flushCheckpoint();
    // A host's own failure type (Temporal's ApplicationFailure) already says how to retry.
    if (host.signal.aborted || err instanceof StageError || (err as Error).name === 'ApplicationFailure') throw err;
    const e = err as Error & { nonRetryable?: boolean };
    const message = `${stageLabel(request)} (round ${request.round}, backend ${request.backend}) failed: ${e.message}`;
    throw new StageError(message, e.name || 'StageFailed', e.nonRetryable === true, err);
  }
  await flushCheckpoint();
  validateOutput(request, output);

  const result: StageResult = {
    stage: request.stage,
    ...(request.step ? { step: request.step } : {}),
    outputKeyPrefix: prefix,
    outputs: output.outputs,
    metrics: output.metrics,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    reused: false,
  };
  await inStage(request, () => store.put(`${prefix}result.json`, JSON.stringify(result, null, 2)));
  await rm(scratchDir, { recursive: true, force: true });
  return result;
}

/** Only references and small numbers may travel through Temporal. */
// NaN and Infinity do not survive JSON, so they are counted (nonFiniteMetrics) and dropped: a diverged
// loss must still reach the abnormal-loss check in the workflow.
function validateOutput(request: StageRequest, output: StageOutput): void {
  let nonFinite = 0;
  for (const [name, value] of Object.entries(output.metrics)) {
    if (typeof value !== 'number') throw new StageError(`${request.stage}: metric "${name}" is not a number`, 'InvalidStageOutput', true);
    if (!Number.isFinite(value)) {
      nonFinite += 1;
      delete output.metrics[name];
    }
  }
  if (nonFinite > 0) output.metrics.nonFiniteMetrics = nonFinite;
  const missing = missingOutputs(request.stage, output.outputs);
  if (missing.length > 0) {
    throw new StageError(
      `${stageLabel(request)} (round ${request.round}, backend ${request.backend}): returned no output named ${missing.map((m) => `"${m}"`).join(', ')} (got: ${Object.keys(output.outputs).join(', ') || 'none'}); nothing was committed`,
      'InvalidStageOutput',
      true,
    );
  }
  for (const [name, ref] of Object.entries(output.outputs)) {
    if (!ref || typeof ref.uri !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256)) {
      throw new StageError(`${request.stage}: output "${name}" is not an artifact reference`, 'InvalidStageOutput', true);
    }
  }
}
