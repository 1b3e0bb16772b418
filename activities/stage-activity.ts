// A stage as a Temporal activity: the stage runner (lib/stages/runner.ts) with the activity's
// heartbeats, attempt, last heartbeat details and cancellation, and its failures as Temporal failures
// (the type is the error's name; the workflows list the non-retryable ones).
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { runStage, StageError, type StageHost, type StageRunnerDeps } from '../lib/stages/runner';
import type { StageRequest, StageResult } from '../lib/stages/contract';
import { stageSignal } from './stage-signal';

function activityHost(): StageHost | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined; // called outside an activity (unit tests): the runner's quiet host
  }
  return {
    attempt: ctx.info.attempt,
    heartbeatDetails: ctx.info.heartbeatDetails,
    heartbeat: (details) => ctx.heartbeat(details),
    signal: stageSignal(ctx),
    log: (level, message, fields) => log[level](message, fields),
  };
}

export async function runStageActivity(request: StageRequest, deps: Omit<StageRunnerDeps, 'host'>): Promise<StageResult> {
  const host = activityHost();
  try {
    return await runStage(request, { ...deps, ...(host ? { host } : {}) });
  } catch (err) {
    if (err instanceof StageError) throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: err.nonRetryable, cause: err.cause as Error | undefined });
    throw err;
  }
}
