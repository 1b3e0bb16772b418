// How long a worker drains on SIGTERM, in one place: the worker's shutdownGraceTime (workers/worker.ts)
// and the deployment manifests' grace periods, which test/deploy/manifests.test.ts checks against it.

/** Seconds a stopping worker lets running activities finish before it cancels them (shutdownGraceTime). */
export const DRAIN_SECONDS = 10;

/**
 * Seconds after the drain before Kubernetes sends SIGKILL: a cancelled command-backend job gets SIGTERM
 * and up to 10 s before its SIGKILL (killGraceMs in lib/stages/command/backend.ts), then the workers
 * close and node exits.
 */
export const EXIT_MARGIN_SECONDS = 20;

/** The pod's terminationGracePeriodSeconds for a worker that drains for `drainSeconds`. */
export function terminationGraceSeconds(drainSeconds: number = DRAIN_SECONDS): number {
  return drainSeconds + EXIT_MARGIN_SECONDS;
}
