// The process's one Temporal Runtime. It must be installed before the first connection, and it holds
// both the worker logger (lib/campaign/worker-log.ts) and the Prometheus endpoint, so every caller
// goes through installRuntime() and a second, different request fails loudly instead of being lost.
import { Runtime, type Logger } from '@temporalio/worker';
import { STAGE_METRICS, STAGE_SECONDS_BUCKETS } from '../activities/metrics';

export const METRICS_ADDRESS_ENV = 'DUAL_IPO_METRICS_ADDRESS';

export interface RuntimeSettings {
  logger?: Logger;
  /** host:port for the Prometheus endpoint (GET /metrics); unset: no endpoint. */
  metricsAddress?: string;
}

let installed: RuntimeSettings | undefined;

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Checks `host:port` (IPv6 in brackets); returns it unchanged. */
export function parseMetricsAddress(value: string): string {
  const match = ADDRESS.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`metrics address "${value}" is not host:port (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 in a container)`);
  return value.trim();
}

/** The flag wins over DUAL_IPO_METRICS_ADDRESS; neither set (or blank): no endpoint. */
export function metricsAddressFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = flag ?? env[METRICS_ADDRESS_ENV];
  return value?.trim() ? parseMetricsAddress(value) : undefined;
}

export function installRuntime(settings: RuntimeSettings): void {
  if (installed) {
    const same = installed.metricsAddress === settings.metricsAddress && (!settings.logger || settings.logger === installed.logger);
    if (!same) throw new Error('the Temporal runtime is already installed with other settings: set the logger and the metrics endpoint in one installRuntime() call');
    return;
  }
  Runtime.install({
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: settings.metricsAddress,
                // Prometheus conventions: seconds, and the bucket layout the stage histogram needs.
                useSecondsForDurations: true,
                histogramBucketOverrides: { [STAGE_METRICS.seconds]: STAGE_SECONDS_BUCKETS },
              },
            },
          },
        }
      : {}),
  });
  installed = { ...settings };
}
