// How long a worker drains on SIGTERM, in one place: the worker's shutdownGraceTime (workers/worker.ts),
// the grace command jobs get for a last checkpoint, and the deployment manifests' grace periods, which
// test/deploy/manifests.test.ts checks against it.

/**
 * Default seconds a stopping worker drains (`dual-ipo worker --drain-seconds`): it stops polling,
 * sends SIGTERM to its command jobs, and lets running activities finish or checkpoint before the SDK
 * cancels them (shutdownGraceTime). Training hosts want more: the GPU manifest passes 300.
 */
export const DRAIN_SECONDS = 30;

/** Of the drain, what the activity keeps for itself after its job's exit: upload the last checkpoint, report. */
export const JOB_MARGIN_SECONDS = 5;

/**
 * Seconds after the drain before Kubernetes sends SIGKILL: a job that ignored SIGTERM is killed at the
 * end of its grace, the activities report, the workers close and node exits.
 */
export const EXIT_MARGIN_SECONDS = 20;

/** The pod's terminationGracePeriodSeconds for a worker that drains for `drainSeconds`. */
export function terminationGraceSeconds(drainSeconds: number = DRAIN_SECONDS): number {
  return drainSeconds + EXIT_MARGIN_SECONDS;
}

/** Seconds a command job has between SIGTERM and SIGKILL when its worker drains. */
export const jobGraceSeconds = (drainSeconds: number) => Math.max(1, drainSeconds - JOB_MARGIN_SECONDS);

/** The drain a worker process shares with its command jobs; `start()` on SIGTERM. */
export function drainSwitch(drainSeconds: number = DRAIN_SECONDS): { drain: { signal: AbortSignal; graceMs: number }; start(): void } {
  const controller = new AbortController();
  return { drain: { signal: controller.signal, graceMs: jobGraceSeconds(drainSeconds) * 1000 }, start: () => controller.abort(new Error('worker draining')) };
}

/** `--drain-seconds`: whole seconds, at least 1. */
export function parseDrainSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--drain-seconds: "${value}" is not a whole number of seconds (at least 1)`);
  return n;
}
