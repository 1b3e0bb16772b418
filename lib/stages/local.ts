// Running a builtin stage without Temporal: the same StageContext the stage runner builds (output
// keys under the campaign's round folder, checkpoints persisted to the store, a scratch folder), for
// tests, the benchmark and scripts. Crash-resume can be exercised by passing `checkpoint`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ShardSpec, StageContext, StageName, StageOutput, StageRequest } from './contract';
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import { outputPrefix } from '../artifacts/manifest';
import { builtinStages } from './builtin';
import { runStage } from './runner';
import { mergeShardsImpl, shardSpec } from './shards';

export interface LocalStageRequest {
  campaignId?: string;
  round: number;
  step?: string;
  /** Run one shard of the stage (its prompts [from, to)); mergeShardsLocally joins them. */
  shard?: ShardSpec;
  inputs?: Record<string, ArtifactRef>;
  params?: Record<string, unknown>;
  /** Resume state, as a previous attempt's last progress() left it. */
  checkpoint?: unknown;
  signal?: AbortSignal;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  onProgress?: (done: number, total: number, message?: string) => void;
}

export interface LocalStageResult extends StageOutput {
  /** The last checkpoint the stage reported. */
  checkpoint: unknown;
  seconds: number;
}

export async function runStageLocally(store: ArtifactStore, stage: StageName, req: LocalStageRequest): Promise<LocalStageResult> {
  const impl = builtinStages[stage];
  const campaignId = req.campaignId ?? 'local';
  const prefix = outputPrefix(campaignId, req.round, stage, req.step, req.shard?.index);
  const request: StageRequest = {
    campaignId,
    round: req.round,
    stage,
    ...(req.step ? { step: req.step } : {}),
    ...(req.shard ? { shard: req.shard } : {}),
    backend: 'builtin',
    inputs: req.inputs ?? {},
    store: { root: store.root },
    params: { seed: 0, round: req.round, ...(req.params ?? {}) },
  };
  const scratchDir = await mkdtemp(join(tmpdir(), 'dual-ipo-local-'));
  let checkpoint = req.checkpoint;
  const ctx: StageContext = {
    request,
    store,
    outputKey: (name) => `${prefix}${name}`,
    checkpoint,
    signal: req.signal ?? new AbortController().signal,
    scratchDir,
    log: req.log ?? (() => {}),
    async progress(done, total, next, message) {
      if (next !== undefined) checkpoint = next;
      req.onProgress?.(done, total, message);
    },
  };
  const started = performance.now();
  try {
    const out = await impl(ctx);
    return { ...out, checkpoint, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/**
 * A builtin stage in shards of `shardSize` prompts, at most `maxParallel` at once, through the stage
 * runner (each shard commits its result.json, so a rerun reuses finished shards), then the merge: the
 * sharded path of the workflows without Temporal (the held-out audit).
 */
export async function runShardedLocally(
  store: ArtifactStore,
  stage: StageName,
  req: Omit<LocalStageRequest, 'shard' | 'checkpoint'>,
  opts: { prompts: number; shardSize: number; maxParallel?: number; scratchRoot?: string },
): Promise<LocalStageResult> {
  const campaignId = req.campaignId ?? 'local';
  const request: StageRequest = {
    campaignId,
    round: req.round,
    stage,
    ...(req.step ? { step: req.step } : {}),
    backend: 'builtin',
    inputs: req.inputs ?? {},
    store: { root: store.root },
    params: { seed: 0, round: req.round, ...(req.params ?? {}) },
  };
  const plan = { prompts: opts.prompts, shardSize: opts.shardSize, shards: Math.ceil(opts.prompts / opts.shardSize) };
  const deps = { resolveImpl: () => builtinStages[stage], ...(opts.scratchRoot ? { scratchRoot: opts.scratchRoot } : {}) };
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < plan.shards) {
      const index = next++;
      await runStage({ ...request, shard: shardSpec(plan, index) }, deps);
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.shards, opts.maxParallel ?? 1) }, lane));
  const ledger = { attempts: Array.from({ length: plan.shards }, () => 1), hostOf: Array.from({ length: plan.shards }, () => 0), hosts: ['local'] };
  const merged = await runStage(request, { ...deps, resolveImpl: () => mergeShardsImpl(plan, ledger) });
  return { outputs: merged.outputs, metrics: merged.metrics, checkpoint: undefined, seconds: (performance.now() - started) / 1000 };
}
