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
