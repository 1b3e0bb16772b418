// Worker processes: the orchestration queue serves the workflows and the small bookkeeping
// activities; stage queues (cpu, gpu, ...) serve the stage activities with their own concurrency.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Worker, type NativeConnection, type WorkerPlugin } from '@temporalio/worker';
import { createActivities, type ActivityOptions } from '../activities';
import { DRAIN_SECONDS } from './drain';
import { deploymentOptions, type DeploymentVersion } from './versioning';

const here = dirname(fileURLToPath(import.meta.url));
export const WORKFLOWS_PATH = join(here, '..', 'workflows', 'index.ts');

export interface QueueSpec {
  name: string;
  /** Concurrent activities on this queue (e.g. the GPU count for `gpu`). */
  concurrency: number;
}

/** `cpu:2,gpu:1` or `cpu,gpu` (default concurrency 1 per stage queue). */
export function parseQueues(spec: string): QueueSpec[] {
  return spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, count] = part.split(':');
      const concurrency = count === undefined ? 1 : Number(count);
      if (!name || !Number.isInteger(concurrency) || concurrency < 1) {
        throw new Error(`--queues: "${part}" is not <queue>[:<concurrency>] with a positive integer concurrency`);
      }
      return { name, concurrency };
    });
}

export interface WorkerSetOptions extends ActivityOptions {
  connection: NativeConnection;
  namespace: string;
  /** The workflows' own task queue (config temporal.taskQueue); served when listed in `queues`. */
  orchestrationQueue: string;
  queues: QueueSpec[];
  identity?: string;
  workflowBundle?: { code: string };
  /** Worker versioning (workers/versioning.ts); unset: unversioned. */
  deployment?: DeploymentVersion;
  /** Seconds the worker drains on shutdown (default DRAIN_SECONDS); command jobs get SIGTERM at its start. */
  drainSeconds?: number;
  /** e.g. the tracing plugin (workers/tracing.ts) */
  plugins?: WorkerPlugin[];
}

export async function createWorkers(options: WorkerSetOptions): Promise<Worker[]> {
  const drainSeconds = options.drainSeconds ?? DRAIN_SECONDS;
  // Stage queues' concurrency is their slots (GPUs on gpu queues) for command jobs.
  const activities = createActivities({ ...options, slotQueues: options.queues.filter((q) => q.name !== options.orchestrationQueue) });
  const workers: Worker[] = [];
  for (const queue of options.queues) {
    const orchestration = queue.name === options.orchestrationQueue;
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: queue.name,
        ...(options.identity ? { identity: options.identity } : {}),
        ...(orchestration
          ? {
              ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
              // A non-determinism error fails the run loudly instead of retrying its task forever.
              workflowFailureErrorTypes: { '*': ['NondeterminismError'] },
              maxCachedWorkflows: 100,
            }
          : {}),
        activities,
        maxConcurrentActivityTaskExecutions: orchestration ? 20 : queue.concurrency,
        shutdownGraceTime: `${drainSeconds}s`,
        // Heartbeat details are a stage's progress as `status` shows it: the SDK's default throttle
        // (up to 80% of heartbeatTimeout) let status lag a minute behind a training run.
        maxHeartbeatThrottleInterval: '2s',
        defaultHeartbeatThrottleInterval: '2s',
        ...deploymentOptions(options.deployment),
        ...(options.plugins?.length ? { plugins: options.plugins } : {}),
      }),
    );
  }
  return workers;
}

export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
