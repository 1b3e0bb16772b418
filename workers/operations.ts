// What a long-running worker process (`dual-ipo worker`) adds for operators, set up in one call
// before the first connection: the Prometheus endpoint (workers/telemetry.ts), tracing
// (workers/tracing.ts) and its deployment version (workers/versioning.ts).
import type { WorkerPlugin } from '@temporalio/worker';
import { installRuntime, metricsAddressFrom, METRICS_ADDRESS_ENV } from './telemetry';
import { createTracing } from './tracing';
import { deploymentVersionFrom, DEPLOYMENT_ENV, BUILD_ID_ENV, type DeploymentVersion } from './versioning';

export const OPERATIONS_FLAGS = { metrics: { type: 'string' }, deployment: { type: 'string' } } as const;

export const OPERATIONS_HELP = `  --metrics ADDR               serve Prometheus metrics on http://ADDR/metrics (host:port; default
                               ${METRICS_ADDRESS_ENV}, else none; 0.0.0.0:9464 in a container)
  --deployment NAME            Temporal worker versioning: join deployment NAME with build id
                               ${BUILD_ID_ENV} or the code version; campaigns stay on the version
                               they started on (default ${DEPLOYMENT_ENV}, else unversioned)`;

export const OPERATIONS_ENV_HELP = `Tracing: OTEL_EXPORTER_OTLP_ENDPOINT (or DUAL_IPO_TRACING=1 for http://localhost:4318,
DUAL_IPO_TRACING=console to print spans) traces workflows and activities with OpenTelemetry.`;

export interface WorkerOperations {
  metricsAddress?: string;
  deployment?: DeploymentVersion;
  /** one line for the worker's log ('' when nothing is on) */
  summary: string;
  /** for createWorkers() */
  workerOptions: { deployment?: DeploymentVersion; plugins?: WorkerPlugin[] };
  /** Flushes the spans; after the workers have stopped. */
  shutdown(): Promise<void>;
}

export function setUpWorkerOperations(flags: { metrics?: string; deployment?: string }, codeVersion: () => string, env: NodeJS.ProcessEnv = process.env): WorkerOperations {
  const metricsAddress = metricsAddressFrom(flags.metrics, env);
  const deployment = deploymentVersionFrom(flags.deployment, codeVersion, env);
  if (metricsAddress) installRuntime({ metricsAddress });
  const tracing = createTracing({ serviceVersion: codeVersion() }, env);
  const summary = [
    deployment ? `deployment ${deployment.deploymentName} build ${deployment.buildId}` : '',
    metricsAddress ? `metrics on http://${metricsAddress}/metrics` : '',
    tracing ? 'tracing on' : '',
  ].filter(Boolean).join(', ');
  return {
    summary,
    ...(metricsAddress ? { metricsAddress } : {}),
    ...(deployment ? { deployment } : {}),
    workerOptions: { ...(deployment ? { deployment } : {}), ...(tracing ? { plugins: [tracing.plugin] } : {}) },
    shutdown: async () => tracing?.shutdown(),
  };
}
