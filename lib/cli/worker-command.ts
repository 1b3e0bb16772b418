// `dual-ipo worker --queues ...`: long-running workers for a cluster or a second machine.
import { hostname } from 'node:os';
import { connectWorker, ensureTemporal } from '../temporal/connection';
import { createWorkers, parseQueues, runWorkers } from '../../workers/worker';
import { parse } from './args';
import { codeVersion } from '../artifacts/manifest';
import { OPERATIONS_ENV_HELP, OPERATIONS_FLAGS, OPERATIONS_HELP, setUpWorkerOperations } from '../../workers/operations';

export const WORKER_HELP = `Usage: dual-ipo worker [--queues LIST] [--orchestration-queue NAME] [--namespace NS]

Runs workers until Ctrl-C. LIST is comma-separated <queue>[:<concurrency>], e.g. "dual-ipo,cpu:2"
on a CPU host and "gpu:8" on an 8-GPU host (concurrency = activities at once on that queue).
The orchestration queue (default "dual-ipo", config temporal.taskQueue) also serves the workflows.

Options:
  --queues LIST                default "dual-ipo,cpu"
  --orchestration-queue NAME   default "dual-ipo"
  --jobs-dir DIR               where command-backend jobs keep their working folders
${OPERATIONS_HELP}
  -h, --help                   show this help

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_CERT/KEY/CA, TEMPORAL_API_KEY select
an external cluster; without TEMPORAL_ADDRESS the local dev server is started or reused.
${OPERATIONS_ENV_HELP}`;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(
    argv,
    { queues: { type: 'string' }, 'orchestration-queue': { type: 'string' }, 'jobs-dir': { type: 'string' }, ...OPERATIONS_FLAGS },
    WORKER_HELP,
  );
  if (help) return void console.log(WORKER_HELP), 0;
  const queues = parseQueues(typeof values.queues === 'string' ? values.queues : 'dual-ipo,cpu');
  // Before any connection: the metrics endpoint lives in the Temporal runtime.
  const ops = setUpWorkerOperations({ metrics: values.metrics as string | undefined, deployment: values.deployment as string | undefined }, codeVersion);
  const target = await ensureTemporal();
  const workers = await createWorkers({
    connection: await connectWorker(target),
    namespace: target.namespace,
    orchestrationQueue: typeof values['orchestration-queue'] === 'string' ? values['orchestration-queue'] : 'dual-ipo',
    queues,
    identity: `dual-ipo-worker@${hostname()}:${process.pid}`,
    ...(typeof values['jobs-dir'] === 'string' ? { jobsDir: values['jobs-dir'] } : {}),
    ...ops.workerOptions,
  });
  console.error(`worker ${process.pid} serving ${queues.map((q) => `${q.name}:${q.concurrency}`).join(', ')} on ${target.address}`);
  if (ops.summary) console.error(`worker ${process.pid}: ${ops.summary}`);
  const stop = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await runWorkers(workers);
  await ops.shutdown();
  return 0;
}
