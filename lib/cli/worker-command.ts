// `dual-ipo worker --queues ...`: long-running workers for a cluster or a second machine.
import { hostname } from 'node:os';
import { connectWorker, ensureTemporal } from '../temporal/connection';
import { createWorkers, parseQueues, runWorkers } from '../../workers/worker';
import { DRAIN_SECONDS, drainSwitch, jobGraceSeconds, parseDrainSeconds } from '../../workers/drain';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, targetOverrides, UsageError, type Options } from './args';
import { codeVersion } from '../artifacts/manifest';
import { OPERATIONS_ENV_HELP, OPERATIONS_FLAGS, OPERATIONS_HELP, setUpWorkerOperations } from '../../workers/operations';

export const WORKER_OPTIONS = { queues: { type: 'string' }, 'orchestration-queue': { type: 'string' }, 'jobs-dir': { type: 'string' }, 'slots-dir': { type: 'string' }, 'drain-seconds': { type: 'string' }, gpus: { type: 'string' }, dev: { type: 'boolean' }, ...OPERATIONS_FLAGS, ...CONNECT_OPTIONS } as const satisfies Options;

export const WORKER_HELP = `Usage: dual-ipo worker (--address HOST:PORT | --dev) [--queues LIST] [--orchestration-queue NAME] [--namespace NS]

Runs workers until Ctrl-C. LIST is comma-separated <queue>[:<concurrency>], e.g. "dual-ipo,cpu:2"
on a CPU host and "gpu:8" on an 8-GPU host (concurrency = activities at once on that queue).
The orchestration queue (default "dual-ipo", config temporal.taskQueue) also serves the workflows.

Every command job holds slots of its queue: a queue's concurrency is its slots, and a job takes
stages.<stage>.gpusPerJob of them (default 1). The queues "gpu" and "gpu-*" share the host's GPUs:
each job sees its own devices in CUDA_VISIBLE_DEVICES (and DUAL_IPO_SLOT, DUAL_IPO_GPUS).
On SIGTERM the worker drains: it stops polling, sends SIGTERM to its command jobs, gives them
the drain less ${DRAIN_SECONDS - jobGraceSeconds(DRAIN_SECONDS)} s to report a last checkpoint and exit, and then exits; their stages resume
on another worker from that checkpoint. A second SIGTERM exits at once.

Options:
  --queues LIST                default "dual-ipo,cpu"
  --orchestration-queue NAME   default "dual-ipo"
  --jobs-dir DIR               where command-backend jobs keep their working folders (and, under
                               it, .cache/ for inputs by sha256 and .slots/<hostname>/ for slot leases)
  --slots-dir DIR              where this host's slot leases live (default <jobs dir>/.slots/<hostname>):
                               worker processes that share it share the slots (one host's GPUs)
  --drain-seconds N            drain on SIGTERM (default ${DRAIN_SECONDS}); the pod's terminationGracePeriodSeconds
                               must be N + 20
  --gpus LIST                  device ids behind the GPU slots, e.g. "0,1,2,3" (default:
                               CUDA_VISIBLE_DEVICES, else 0..N-1 for "gpu:N")
  --dev                        no cluster: start or reuse the local dev server and serve it
${OPERATIONS_HELP}
${CONNECT_HELP}
  -h, --help                   show this help

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_CERT/KEY/CA, TEMPORAL_API_KEY select
the cluster. Without TEMPORAL_ADDRESS or --address the worker refuses to start unless --dev is given:
a worker that quietly joined whatever listens on 127.0.0.1:7233 would take that server's tasks.
${OPERATIONS_ENV_HELP}`;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, WORKER_OPTIONS, WORKER_HELP);
  if (help) return void console.log(WORKER_HELP), 0;
  const overrides = targetOverrides(values);
  const clusterGiven = Boolean(overrides.address ?? process.env.TEMPORAL_ADDRESS);
  if (values.dev && clusterGiven) throw new UsageError(`--dev serves the local dev server, but ${overrides.address ? '--address' : 'TEMPORAL_ADDRESS'} names a cluster: give one or the other\n\n${WORKER_HELP}`);
  if (!values.dev && !clusterGiven) throw new UsageError(`no Temporal cluster given: set TEMPORAL_ADDRESS or --address HOST:PORT, or pass --dev for the local dev server\n\n${WORKER_HELP}`);
  const queues = parseQueues(typeof values.queues === 'string' ? values.queues : 'dual-ipo,cpu');
  let drainSeconds = DRAIN_SECONDS;
  try {
    if (typeof values['drain-seconds'] === 'string') drainSeconds = parseDrainSeconds(values['drain-seconds']);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${WORKER_HELP}`);
  }
  const gpus = typeof values.gpus === 'string' ? values.gpus.split(',').map((g) => g.trim()).filter(Boolean) : undefined;
  if (gpus && gpus.length === 0) throw new UsageError(`--gpus: give device ids, e.g. "0,1,2,3"\n\n${WORKER_HELP}`);
  const drain = drainSwitch(drainSeconds);
  // Before any connection: the metrics endpoint lives in the Temporal runtime.
  const ops = setUpWorkerOperations({ metrics: values.metrics as string | undefined, deployment: values.deployment as string | undefined }, codeVersion);
  const target = await ensureTemporal(overrides);
  const workers = await createWorkers({
    connection: await connectWorker(target),
    namespace: target.namespace,
    orchestrationQueue: typeof values['orchestration-queue'] === 'string' ? values['orchestration-queue'] : 'dual-ipo',
    queues,
    identity: `dual-ipo-worker@${hostname()}:${process.pid}`,
    ...(typeof values['jobs-dir'] === 'string' ? { jobsDir: values['jobs-dir'] } : {}),
    ...(typeof values['slots-dir'] === 'string' ? { slotsDir: values['slots-dir'] } : {}),
    drainSeconds,
    drain: drain.drain,
    ...(gpus ? { gpus } : {}),
    ...ops.workerOptions,
  });
  console.error(`worker ${process.pid} serving ${queues.map((q) => `${q.name}:${q.concurrency}`).join(', ')} on ${target.address}`);
  if (ops.summary) console.error(`worker ${process.pid}: ${ops.summary}`);
  const stop = (signal: string) => () => {
    console.error(`worker ${process.pid}: ${signal}: draining for up to ${drainSeconds} s (no new tasks; command jobs asked to checkpoint)`);
    drain.start();
    workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  };
  process.once('SIGINT', stop('SIGINT'));
  process.once('SIGTERM', stop('SIGTERM'));
  await runWorkers(workers);
  await ops.shutdown();
  return 0;
}
