// A sharded stage (config stages.<stage>.shardSize): its prompts split into shards, each shard its
// own stage activity (own retries, own output folder, reused when already finished), at most
// `maxParallel` in flight, then a merge activity that lists the shards' outputs for the next stage.
// It is a child workflow so that the round's history holds one child per stage whatever the shard
// count; it continues-as-new itself before its own history grows large.
import { ApplicationFailure, CancellationScope, condition, continueAsNew, isCancellation, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { shardRange } from '../config/stage-params';
import { stageActivity, stageActivityOptions } from './stages';
import { shardStatusQuery, type ShardLedger, type ShardedStageInput, type ShardedStageOutcome, type ShardSummary, type StageResult } from './definitions';

/** Events after which the fan-out continues-as-new (Temporal's hard limit is 51,200). */
export const SHARD_HISTORY_EVENTS = 10_000;

export function emptyLedger(shards: number): ShardLedger {
  return { attempts: Array.from({ length: shards }, () => 0), hostOf: Array.from({ length: shards }, () => -1), hosts: [], reused: 0 };
}

export function shardSummary(input: Pick<ShardedStageInput, 'plan'>, ledger: ShardLedger): ShardSummary {
  const hosts: Record<string, number> = {};
  for (const h of ledger.hostOf) if (h >= 0) hosts[ledger.hosts[h]!] = (hosts[ledger.hosts[h]!] ?? 0) + 1;
  return {
    count: input.plan.shards,
    shardSize: input.plan.shardSize,
    maxParallel: input.plan.maxParallel,
    attempts: ledger.attempts.reduce((a, b) => a + b, 0),
    retried: ledger.attempts.filter((a) => a > 1).length,
    reused: ledger.reused,
    hosts,
  };
}

export async function shardedStage(input: ShardedStageInput): Promise<ShardedStageOutcome> {
  const { config, request, plan } = input;
  const label = `${request.stage}${request.step ? `-${request.step}` : ''}`;
  const state = input.state ?? { next: 0, ledger: emptyLedger(plan.shards), runs: 0, startedAt: new Date().toISOString() };
  state.runs += 1;
  const { ledger } = state;
  const runShard = stageActivity(config, request.stage);
  const merge = proxyActivities<Activities>(stageActivityOptions(config, request.stage)).mergeShards;
  const limit = input.historyLimit ?? SHARD_HISTORY_EVENTS;

  let running = 0;
  let failed = 0;
  let merging = false;
  let failure: unknown;
  setHandler(shardStatusQuery, () => ({
    stage: label,
    shards: plan.shards,
    done: ledger.attempts.filter((a) => a > 0).length,
    running,
    failed,
    retried: ledger.attempts.filter((a) => a > 1).length,
    maxParallel: plan.maxParallel,
    runs: state.runs,
    merging,
  }));

  const hostIndex = (worker: string) => {
    const i = ledger.hosts.indexOf(worker);
    return i >= 0 ? i : ledger.hosts.push(worker) - 1;
  };
  const shard = async (index: number) => {
    running += 1;
    try {
      const result: StageResult = await runShard({ ...request, shard: { index, count: plan.shards, ...shardRange(plan, index) } });
      ledger.attempts[index] = result.attempt ?? 1;
      ledger.hostOf[index] = hostIndex(result.worker ?? 'unknown');
      if (result.reused) ledger.reused += 1;
    } catch (err) {
      failed += 1;
      failure ??= err;
    } finally {
      running -= 1;
    }
  };

  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;
  try {
    while (state.next < plan.shards) {
      await condition(() => running < plan.maxParallel);
      // A failed shard stops new launches; the ones in flight finish, so a rerun reuses them.
      if (failure !== undefined || historyFull()) break;
      void shard(state.next++);
    }
    await condition(() => running === 0);
  } catch (err) {
    // Stopped: the shards in flight were asked to cancel (their activities wait for the
    // cancellation to complete); end only when none is left running on a worker.
    if (!isCancellation(err) || !patched('shard-cancel-waits')) throw err;
    await CancellationScope.nonCancellable(() => condition(() => running === 0));
    throw err;
  }
  if (failure !== undefined) {
    if (isCancellation(failure)) throw failure;
    throw ApplicationFailure.create({ message: `${label} (round ${request.round}): ${failed} of ${plan.shards} shards failed: ${(failure as Error).message}`, type: 'ShardFailed', nonRetryable: true, cause: failure as Error });
  }
  // Every launched shard has finished: the next run starts where this one stopped.
  if (state.next < plan.shards) return continueAsNew<typeof shardedStage>({ ...input, state });

  merging = true;
  const merged = await merge({ request, plan, ledger });
  const summary = shardSummary(input, ledger);
  const ledgerRef = merged.outputs['shardLedger'];
  const seconds = (Date.now() - new Date(state.startedAt).getTime()) / 1000;
  return { result: { ...merged, startedAt: state.startedAt, seconds }, shards: { ...summary, ...(ledgerRef ? { ledger: ledgerRef } : {}) } };
}
