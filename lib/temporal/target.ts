// Which Temporal to talk to. TEMPORAL_ADDRESS set: an external cluster (TLS / API key from env), and
// nothing local is ever started. Unset: the embedded dev server on 127.0.0.1.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

export interface TemporalTarget {
  /** host:port of the frontend */
  address: string;
  namespace: string;
  /** true: the local dev server, which this process may start; false: an external cluster */
  embedded: boolean;
  /** Web UI base URL, when known (embedded server, or TEMPORAL_UI_URL for a cluster) */
  uiUrl?: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export interface TargetOverrides {
  address?: string;
  namespace?: string;
}

export const DEFAULT_PORT = 7233;
export const DEFAULT_NAMESPACE = 'default';

const CLUSTER_ONLY_VARS = ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'] as const;

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port number (1-65535), got "${raw}"`);
  return port;
}

/** Ports of the embedded dev server: DUAL_IPO_TEMPORAL_PORT (7233), DUAL_IPO_TEMPORAL_UI_PORT (port + 1000). */
export function devServerPorts(env: NodeJS.ProcessEnv = process.env): { port: number; uiPort: number } {
  const port = parsePort(env, 'DUAL_IPO_TEMPORAL_PORT', DEFAULT_PORT);
  // The CLI's own default for the UI is port + 1000; keep it so two projects on 7233/7234 never collide on the UI.
  const uiPort = parsePort(env, 'DUAL_IPO_TEMPORAL_UI_PORT', port + 1000 <= 65535 ? port + 1000 : port - 1000);
  if (uiPort === port) throw new Error(`DUAL_IPO_TEMPORAL_UI_PORT (${uiPort}) must differ from DUAL_IPO_TEMPORAL_PORT (${port})`);
  return { port, uiPort };
}

function readFileFromEnv(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${name}=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function parseTlsSwitch(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env.TEMPORAL_TLS?.toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new Error(`TEMPORAL_TLS must be true or false, got "${env.TEMPORAL_TLS}"`);
}

export function resolveTarget(overrides: TargetOverrides = {}, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const address = overrides.address ?? (env.TEMPORAL_ADDRESS || undefined);
  const namespace = overrides.namespace ?? (env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE);
  if (!address) {
    // Credentials without an address almost always mean a forgotten TEMPORAL_ADDRESS: starting a
    // local server then would quietly run the campaign in the wrong place.
    const stray = CLUSTER_ONLY_VARS.filter((name) => env[name]);
    if (stray.length) throw new Error(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but TEMPORAL_ADDRESS is not: set TEMPORAL_ADDRESS to the cluster's host:port, or unset them to use the local dev server`);
    const { port, uiPort } = devServerPorts(env);
    return { address: `127.0.0.1:${port}`, namespace, embedded: true, uiUrl: `http://127.0.0.1:${uiPort}` };
  }
  const crt = readFileFromEnv(env, 'TEMPORAL_TLS_CERT');
  const key = readFileFromEnv(env, 'TEMPORAL_TLS_KEY');
  if (Boolean(crt) !== Boolean(key)) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (client certificate and its private key)');
  const ca = readFileFromEnv(env, 'TEMPORAL_TLS_CA');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  // Any TLS material or an API key implies TLS (as the SDK does for API keys); TEMPORAL_TLS=true alone
  // turns on TLS with the system roots, TEMPORAL_TLS=false forces plaintext (e.g. an API key to a local proxy).
  const tlsSwitch = parseTlsSwitch(env);
  const useTls = tlsSwitch ?? Boolean(crt || ca || serverName || apiKey);
  if (tlsSwitch === false && (crt || ca || serverName)) throw new Error('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT / TEMPORAL_TLS_CA / TEMPORAL_TLS_SERVER_NAME');
  const tls: TLSConfig = {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
  return {
    address,
    namespace,
    embedded: false,
    ...(env.TEMPORAL_UI_URL ? { uiUrl: env.TEMPORAL_UI_URL.replace(/\/+$/, '') } : {}),
    ...(useTls ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}
