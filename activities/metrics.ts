// Per-stage counters and durations, recorded through the activity's metric meter so they come out of
// the worker's one Prometheus endpoint beside the Temporal runtime's own metrics (workers/telemetry.ts),
// tagged by the runtime with namespace, task queue and activity type, and here with stage and backend.
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { StageRequest, StageResult } from '../lib/stages/contract';

export const STAGE_METRICS = {
  started: 'dual_ipo_stage_started',
  finished: 'dual_ipo_stage_finished',
  failed: 'dual_ipo_stage_failed',
  reused: 'dual_ipo_stage_reused',
  seconds: 'dual_ipo_stage_seconds',
} as const;

// Stages last from a second (a reused result) to many hours (generator training): the runtime's
// default buckets (meant for milliseconds) would put nearly every training run in the last one.
export const STAGE_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];

function activityMeter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined; // outside an activity (unit tests, lib/stages/local.ts): nothing to report to
  }
}

type Outcome = 'finished' | 'failed' | 'reused';

/**
 * Runs one attempt of a stage and counts it: `started` on entry, then exactly one of `finished`,
 * `reused` (a verified earlier result was returned) or `failed` (an error or a cancellation), and its
 * wall time in `dual_ipo_stage_seconds` with the outcome as a tag.
 */
export async function measureStage(request: StageRequest, run: () => Promise<StageResult>): Promise<StageResult> {
  const meter = activityMeter()?.withTags({ stage: request.stage, backend: request.backend });
  if (!meter) return run();
  meter.createCounter(STAGE_METRICS.started, undefined, 'stage activity attempts begun').add(1);
  const began = performance.now();
  let outcome: Outcome = 'failed';
  try {
    const result = await run();
    outcome = result.reused ? 'reused' : 'finished';
    return result;
  } finally {
    meter.createCounter(STAGE_METRICS[outcome], undefined, `stage activity attempts ${outcome}`).add(1);
    meter.createHistogram(STAGE_METRICS.seconds, 'float', 's', 'wall time of a stage activity attempt').record((performance.now() - began) / 1000, { outcome });
  }
}
