// How long a worker drains on SIGTERM, in one place that the deployment manifests are tested against
// (test/deploy/manifests.test.ts). workers/worker.ts still spells its shutdownGraceTime as a literal;
// the test checks the two agree until the worker reads this constant (the --drain setting).

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
