// Runs one stage as an idempotent, resumable activity: the same request always writes to the same
// keys, a finished and verified result is returned instead of redoing work, and progress checkpoints
// survive both a lost heartbeat and a dead worker (they are persisted in the artifact store too).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Context, log as activityLog } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { openStore, type ArtifactStore } from '../lib/artifacts';
import { outputPrefix } from '../lib/artifacts/manifest';
import type { StageContext, StageImpl, StageOutput, StageRequest, StageResult, StoreLocation } from './types';

const CHECKPOINT_PERSIST_INTERVAL_MS = 5_000;

export interface StageRunnerDeps {
  /** Picks the implementation for a request's backend; throws a non-retryable config error when unavailable. */
  resolveImpl(request: StageRequest): Promise<StageImpl>;
  scratchRoot?: string;
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

/** The activity logger inside an activity; stderr when a stage runs outside one (tests, local tools). */
function stageLog(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
  try {
    activityLog[level](message, fields);
  } catch {
    if (process.env.DUAL_IPO_DEBUG) console.error(`[${level}] ${message}`, fields);
  }
}

interface HeartbeatDetails {
  done: number;
  total: number;
  message?: string;
  checkpoint?: unknown;
}

/** A stage's result file is the commit point: written last, atomically. */
export async function findFinishedResult(store: ArtifactStore, prefix: string): Promise<StageResult | undefined> {
  const ref = await store.head(`${prefix}result.json`);
  if (!ref) return undefined;
  const result = JSON.parse(new TextDecoder().decode(await store.get(ref))) as StageResult;
  for (const [name, out] of Object.entries(result.outputs)) {
    const key = out.uri.slice(store.root.replace(/\/$/, '').length + 1);
    const found = await store.head(key);
    if (!found || found.sha256 !== out.sha256 || found.size !== out.size) {
      stageLog('warn', 'finished result lists an output that no longer verifies; redoing the stage', { prefix, name });
      return undefined;
    }
  }
  return result;
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (unit tests, the CLI's local mode)
  }
}

export async function runStage(request: StageRequest, deps: StageRunnerDeps): Promise<StageResult> {
  const store = storeFor(request.store);
  const prefix = outputPrefix(request.campaignId, request.round, request.stage, request.step);
  const finished = await findFinishedResult(store, prefix);
  if (finished) return { ...finished, reused: true };

  const impl = await deps.resolveImpl(request);
  const activity = currentContext();
  const checkpointKey = `${prefix}checkpoint.json`;
  const fromHeartbeat = activity?.info.heartbeatDetails as HeartbeatDetails | undefined;
  let checkpoint: unknown = fromHeartbeat?.checkpoint;
  if (checkpoint === undefined) {
    const persisted = await store.head(checkpointKey);
    if (persisted) checkpoint = JSON.parse(new TextDecoder().decode(await store.get(persisted)));
  }

  const attempt = activity?.info.attempt ?? 1;
  const scratchDir = join(deps.scratchRoot ?? join(tmpdir(), 'dual-ipo-scratch'), prefix, `attempt-${attempt}`);
  await mkdir(scratchDir, { recursive: true });
  const signal = activity?.cancellationSignal ?? new AbortController().signal;
  let lastPersist = 0;
  let lastPersisted: string | undefined;

  const ctx: StageContext = {
    request,
    store,
    outputKey: (name) => `${prefix}${name}`,
    checkpoint,
    signal,
    scratchDir,
    log: (message, fields) => stageLog('info', message, { stage: request.stage, round: request.round, ...fields }),
    async progress(done, total, newCheckpoint, message) {
      const details: HeartbeatDetails = { done, total, message, checkpoint: newCheckpoint ?? checkpoint };
      if (newCheckpoint !== undefined) checkpoint = newCheckpoint;
      activity?.heartbeat(details);
      const serialized = checkpoint === undefined ? undefined : JSON.stringify(checkpoint);
      const now = Date.now();
      if (serialized !== undefined && serialized !== lastPersisted && now - lastPersist >= CHECKPOINT_PERSIST_INTERVAL_MS) {
        lastPersist = now;
        lastPersisted = serialized;
        await store.put(checkpointKey, serialized);
      }
    },
  };

  const startedAt = new Date();
  activity?.heartbeat({ done: 0, total: 1, message: 'started', checkpoint } satisfies HeartbeatDetails);
  let output: StageOutput;
  try {
    output = await impl(ctx);
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof ApplicationFailure) throw err;
    const message = `${request.stage}${request.step ? `-${request.step}` : ''} (round ${request.round}, backend ${request.backend}) failed: ${(err as Error).message}`;
    const nonRetryable = (err as { nonRetryable?: boolean }).nonRetryable === true;
    throw ApplicationFailure.create({ message, type: (err as Error).name || 'StageFailed', nonRetryable, cause: err as Error });
  }
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
  await store.put(`${prefix}result.json`, JSON.stringify(result, null, 2));
  await rm(scratchDir, { recursive: true, force: true });
  return result;
}

/** Only references and small numbers may travel through Temporal. */
// NaN and Infinity do not survive JSON, so they are counted (nonFiniteMetrics) and dropped: a diverged
// loss must still reach the abnormal-loss check in the workflow.
function validateOutput(request: StageRequest, output: StageOutput): void {
  let nonFinite = 0;
  for (const [name, value] of Object.entries(output.metrics)) {
    if (typeof value !== 'number') {
      throw ApplicationFailure.nonRetryable(`${request.stage}: metric "${name}" is not a number`, 'InvalidStageOutput');
    }
    if (!Number.isFinite(value)) {
      nonFinite += 1;
      delete output.metrics[name];
    }
  }
  if (nonFinite > 0) output.metrics.nonFiniteMetrics = nonFinite;
  for (const [name, ref] of Object.entries(output.outputs)) {
    if (!ref || typeof ref.uri !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256)) {
      throw ApplicationFailure.nonRetryable(`${request.stage}: output "${name}" is not an artifact reference`, 'InvalidStageOutput');
    }
  }
}
