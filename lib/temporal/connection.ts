// Connections for clients and workers (TLS / API key for a real cluster), and `ensureTemporal()`,
// the one call every command makes before talking to Temporal.
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { ensureDevServer, type DevServerOptions } from './dev-server';
import { ensureLocalNamespace } from './namespace';
import { ensureSearchAttributes, SearchAttributeError } from './search-attributes';
import { resolveTarget, type TargetOverrides, type TemporalTarget } from './target';

export { resolveTarget, type TargetOverrides, type TemporalTarget };

/** Options shared by both connection kinds. `tls: false` is explicit so an API key alone cannot switch TLS on when TEMPORAL_TLS=false. */
function connectionOptions(target: TemporalTarget): Pick<ConnectionOptions & NativeConnectionOptions, 'address' | 'tls' | 'apiKey'> {
  return { address: target.address, tls: target.tls ?? false, ...(target.apiKey ? { apiKey: target.apiKey } : {}) };
}

/** A Client on the target's namespace. The caller closes it with `client.connection.close()`. */
export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(target));
  return new Client({ connection, namespace: target.namespace });
}

/** A NativeConnection for `Worker.create`. The caller closes it after the workers stop. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(target));
}

export interface EnsureTemporalOptions extends TargetOverrides {
  /** passed to ensureDevServer for the embedded server (ports, data folder, timeout) */
  devServer?: Omit<DevServerOptions, 'namespace' | 'foreground'>;
  /** where warnings go (default console.warn) */
  warn?: (message: string) => void;
}

/**
 * Resolves the target; for the embedded server, starts or reuses it (and its namespace); makes sure
 * the search attributes exist. Returns the target, with `uiUrl` for the embedded server.
 */
export async function ensureTemporal(opts: EnsureTemporalOptions = {}): Promise<TemporalTarget> {
  const { devServer, warn = console.warn, ...overrides } = opts;
  const target = resolveTarget(overrides);
  if (target.embedded) {
    const server = await ensureDevServer({ ...devServer, namespace: target.namespace });
    target.address = server.address;
    target.uiUrl = server.uiUrl;
  }
  const connection = await Connection.connect(connectionOptions(target)).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${target.address}${target.embedded ? '' : ' (TEMPORAL_ADDRESS)'}: ${err.message}`);
  });
  try {
    if (target.embedded) await ensureLocalNamespace(connection, target.namespace);
    await ensureSearchAttributes(connection, target.namespace);
  } catch (err) {
    // Temporal Cloud does not offer the operator service at all: there the attributes are registered
    // in the Cloud UI / tcld, and we cannot check them, only say so.
    if (!(err instanceof SearchAttributeError && err.reason === 'list-denied' && !target.embedded)) throw err;
    warn(`warning: ${err.message}`);
  } finally {
    await connection.close();
  }
  return target;
}
