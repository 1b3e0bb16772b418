// Why an activity was cancelled decides what happens to a stage's external job. Only a cancel
// request (`dual-ipo stop --now`, a cancelled workflow), a pause or reset, or the worker shutting
// down stops it. A heartbeat that timed out, or a server that no longer knows the attempt (it was
// down longer than heartbeatTimeout), says nothing about the job: it keeps running and the retry
// re-attaches to it, so a Temporal outage never kills a healthy GPU run.
import type { Context } from '@temporalio/activity';
import { StageDetached } from '../lib/stages/contract';

/** Cancel reasons (the SDK's CancelledFailure message) that mean lost contact, not a request to stop. */
export const LOST_CONTACT_REASONS = new Set(['TIMED_OUT', 'NOT_FOUND']);

export function lostContact(reason: unknown, details: { cancelRequested?: boolean; timedOut?: boolean; notFound?: boolean } | undefined): string | undefined {
  if (details?.cancelRequested) return undefined;
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  if (LOST_CONTACT_REASONS.has(message)) return message;
  if (details?.timedOut) return 'TIMED_OUT';
  if (details?.notFound) return 'NOT_FOUND';
  return undefined;
}

/** The activity's cancellation as the stage sees it: lost contact aborts with a StageDetached reason. */
export function stageSignal(ctx: Pick<Context, 'cancellationSignal' | 'cancellationDetails'>): AbortSignal {
  const controller = new AbortController();
  const forward = () => {
    const lost = lostContact(ctx.cancellationSignal.reason, ctx.cancellationDetails);
    controller.abort(lost ? new StageDetached(lost) : ctx.cancellationSignal.reason);
  };
  if (ctx.cancellationSignal.aborted) forward();
  else ctx.cancellationSignal.addEventListener('abort', forward, { once: true });
  return controller.signal;
}
