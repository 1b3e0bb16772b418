// The merge step of a sharded stage (the workflow's shardedStage calls it once every shard has
// finished): it reads each shard's committed result, writes the ledger (every shard's range,
// outputs, attempt and worker) and the outputs the next stage reads. Builtin stages join their own
// formats (builtin/shards.ts); for a command stage each output becomes a manifest of the shards'
// files (`dual-ipo/shard-outputs@1`, docs/command-backend.md) and each metric the prompt-weighted
// mean of the shards' (exact for means over prompts, such as a Total; a job that needs another
// aggregate computes it from the manifest in the next stage).
import type { ArtifactRef } from '../artifacts';
import { outputPrefix } from '../artifacts/manifest';
import type { ShardSpec, StageContext, StageImpl, StageOutput, StageRequest, StageResult } from './contract';
import { findFinishedResult } from './runner';
import { builtinMerges } from './builtin/shards';

export interface ShardPlanLike {
  prompts: number;
  shardSize: number;
  shards: number;
}

export interface ShardLedgerLike {
  attempts: number[];
  hostOf: number[];
  hosts: string[];
}

export function shardSpec(plan: ShardPlanLike, index: number): ShardSpec {
  return { index, count: plan.shards, from: index * plan.shardSize, to: Math.min(plan.prompts, (index + 1) * plan.shardSize) };
}

/** The committed result of every shard, in order; a missing one is an error (the workflow merges only after all finished). */
export async function shardResults(ctx: Pick<StageContext, 'store'>, request: StageRequest, plan: ShardPlanLike): Promise<StageResult[]> {
  const results: StageResult[] = [];
  for (let i = 0; i < plan.shards; i++) {
    const prefix = outputPrefix(request.campaignId, request.round, request.stage, request.step, i);
    const found = await findFinishedResult(ctx.store, prefix);
    if (!found) throw new Error(`${request.stage}${request.step ? `-${request.step}` : ''}: shard ${i} of ${plan.shards} has no finished result at ${prefix}`);
    results.push(found);
  }
  return results;
}

async function genericMerge(ctx: StageContext, shards: StageResult[], plan: ShardPlanLike): Promise<StageOutput> {
  const names = [...new Set(shards.flatMap((r) => Object.keys(r.outputs)))].sort();
  const outputs: Record<string, ArtifactRef> = {};
  for (const name of names) {
    const files = shards.map((r, i) => ({ ...shardSpec(plan, i), ref: r.outputs[name] ?? null }));
    outputs[name] = await ctx.store.putJson(ctx.outputKey(`${name}.shards.json`), { format: 'dual-ipo/shard-outputs@1', stage: ctx.request.stage, name, shards: files }, { summary: { shards: files.length } });
  }
  const metrics: Record<string, number> = {};
  const weightOf = (i: number) => shardSpec(plan, i).to - shardSpec(plan, i).from;
  for (const key of [...new Set(shards.flatMap((r) => Object.keys(r.metrics)))]) {
    let sum = 0;
    let weight = 0;
    shards.forEach((r, i) => {
      const v = r.metrics[key];
      if (typeof v === 'number' && Number.isFinite(v)) {
        sum += v * weightOf(i);
        weight += weightOf(i);
      }
    });
    if (weight > 0) metrics[key] = sum / weight;
  }
  metrics.shards = shards.length;
  return { outputs, metrics };
}

/** The merge step as a stage implementation, for the stage runner (so it commits and is reused like any stage). */
export function mergeShardsImpl(plan: ShardPlanLike, ledger: ShardLedgerLike): StageImpl {
  return async (ctx) => {
    const shards = await shardResults(ctx, ctx.request, plan);
    const ledgerRef = await ctx.store.putJson(
      ctx.outputKey('shards.json'),
      {
        format: 'dual-ipo/shard-ledger@1',
        stage: ctx.request.stage,
        ...(ctx.request.step ? { step: ctx.request.step } : {}),
        prompts: plan.prompts,
        shardSize: plan.shardSize,
        shards: shards.map((r, i) => ({
          ...shardSpec(plan, i),
          attempt: ledger.attempts[i] ?? null,
          worker: (ledger.hostOf[i] ?? -1) >= 0 ? ledger.hosts[ledger.hostOf[i]!] : null,
          seconds: r.seconds,
          outputs: r.outputs,
          metrics: r.metrics,
        })),
      },
      { summary: { shards: shards.length } },
    );
    const merge = ctx.request.backend === 'builtin' ? builtinMerges[ctx.request.stage] : undefined;
    const out = merge ? await merge(ctx, shards) : await genericMerge(ctx, shards, plan);
    return { outputs: { ...out.outputs, shardLedger: ledgerRef }, metrics: out.metrics };
  };
}
