// The campaign host: what `run`, `quickstart` and `experiment` share. It makes sure Temporal is
// there, connects a client, and runs the workers for the campaigns' queues: the workflows in this
// process, the stage queues in a child process (stage-worker-process.ts), both stopped together.
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { STAGE_NAMES } from '../stages/contract';
import { checkStageStore } from '../stages/preflight';
import type { CampaignConfig } from '../../config/schema';
import { checkCommands } from '../../config/load';
import { createWorkers } from '../../workers/worker';
import { createTracing } from '../../workers/tracing';
import { connectClient, connectWorker, ensureTemporal } from '../temporal/connection';
import type { TargetOverrides, TemporalTarget } from '../temporal/target';
import { spawnStageWorker, type StageWorkerProcess } from './stage-worker-process';

/** The task queues a campaign's workflows and stages use. */
export function configQueues(config: CampaignConfig): string[] {
  return [...new Set([config.temporal.taskQueue, ...STAGE_NAMES.map((s) => config.stages[s].taskQueue)])];
}

export interface CampaignHost {
  client: Client;
  target: TemporalTarget;
  /** The stage worker child process, when one runs. */
  stageWorker?: StageWorkerProcess;
  /** Stops the workers (in-process and child) and waits for them. Safe to call twice. */
  stop(): Promise<void>;
}

export interface HostOptions {
  /** The campaigns to serve: their queues decide the workers. */
  configs: CampaignConfig[];
  /** false: connect only (workers run elsewhere, `dual-ipo worker`). */
  runWorkers: boolean;
  /** Concurrent activities per stage queue in the child worker (default 1). */
  stageConcurrency?: number;
  /** Names the worker identity and the child's log file. */
  name: string;
  /** --address / --namespace of the command, over TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE */
  temporal?: TargetOverrides;
}

export class StorePreflightError extends Error {
  override name = 'StorePreflightError';
}

/** Every artifact store the configs' stages write to can be written, read back and cleaned. */
export async function preflight(configs: CampaignConfig[], opts: { timeoutMs?: number } = {}): Promise<void> {
  const seen = new Set<string>();
  for (const config of configs) {
    checkCommands(config, `campaign ${config.campaign.id}`);
    const location = { root: config.artifacts.root, ...(config.artifacts.s3 ? { s3: config.artifacts.s3 } : {}) };
    const key = JSON.stringify(location);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      await checkStageStore(location, opts);
    } catch (err) {
      throw new StorePreflightError(`campaign ${config.campaign.id}: the artifact store artifacts.root = ${config.artifacts.root} cannot be used: ${(err as Error).message}`, { cause: err });
    }
  }
}

export async function openHost(options: HostOptions): Promise<CampaignHost> {
  // Workers of this process will write to the stores: check them before anything starts.
  if (options.runWorkers) await preflight(options.configs);
  const target = await ensureTemporal(options.temporal);
  const client = await connectClient(target);
  if (!options.runWorkers) return { client, target, stop: async () => {} };
  const orchestration = options.configs[0]!.temporal.taskQueue;
  const queues = [...new Set(options.configs.flatMap(configQueues))];
  // The stage worker child traces itself: it reads the same environment.
  const tracing = createTracing({ serviceName: 'dual-ipo-run' });
  const workers: Worker[] = await createWorkers({
    connection: await connectWorker(target),
    namespace: target.namespace,
    orchestrationQueue: orchestration,
    queues: [{ name: orchestration, concurrency: 1 }],
    identity: `dual-ipo-${options.name}@${hostname()}:${process.pid}`,
    ...(tracing ? { plugins: [tracing.plugin] } : {}),
  });
  // Stage work in its own process, so training never stalls the workflows (see stage-worker-process.ts).
  const concurrency = options.stageConcurrency ?? 1;
  const stageQueues = queues.filter((q) => q !== orchestration).map((q) => (concurrency > 1 ? `${q}:${concurrency}` : q));
  const stageWorker = stageQueues.length > 0 ? spawnStageWorker(stageQueues, orchestration, `${options.name}-stages`, target) : undefined;
  const running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  let stopped: Promise<void> | undefined;
  return {
    client,
    target,
    ...(stageWorker ? { stageWorker } : {}),
    stop() {
      stopped ??= (async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await Promise.all([running.catch(() => undefined), stageWorker?.stop()]);
        await tracing?.shutdown();
      })();
      return stopped;
    },
  };
}
