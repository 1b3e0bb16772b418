// `dual-ipo server`: the local Temporal dev server (SQLite persistence, Web UI).
import { Connection } from '@temporalio/client';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, targetOverrides, UsageError, type Options } from './args';
import { ensureTemporal } from '../temporal/connection';
import { devServerStatus, ensureDevServer, isHealthy, stopDevServer } from '../temporal/dev-server';
import { ensureLocalNamespace } from '../temporal/namespace';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { resolveTarget, type TargetOverrides } from '../temporal/target';

export const SERVER_OPTIONS = { status: { type: 'boolean' }, stop: { type: 'boolean' }, foreground: { type: 'boolean' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const SERVER_HELP = `Usage: dual-ipo server [--status | --stop | --foreground] [--address HOST:PORT] [--namespace NS]

Starts the local Temporal dev server (SQLite database in <data>/temporal/temporal.db, Web UI), or
reuses the Temporal already answering on the port, waits until it is healthy and registers the
campaign search attributes (also on an existing database file). By default the server runs in the
background and outlives this command; stop it with --stop.

Options:
  --status       print address, Web UI URL, database file, log file and pid; exit 1 when not running
  --stop         stop the server this project started (its pid file); others are left alone
  --foreground   run the server attached to this command until Ctrl-C, then stop it
${CONNECT_HELP}
  -h, --help     show this help

Environment:
  DUAL_IPO_DATA_DIR           data folder (default <repo>/.data)
  DUAL_IPO_TEMPORAL_PORT      frontend port (default 7233)
  DUAL_IPO_TEMPORAL_UI_PORT   Web UI port (default frontend port + 1000)
  TEMPORAL_NAMESPACE          namespace (default "default")
  TEMPORAL_CLI                the temporal binary (default: PATH, then .tools/ from \`npm run setup\`)
  TEMPORAL_ADDRESS            an external cluster: nothing local is started; this command only
                              checks the cluster and its search attributes (see docs/temporal.md)`;

async function printStatus(overrides: TargetOverrides): Promise<number> {
  const target = resolveTarget(overrides);
  if (!target.embedded) {
    const healthy = await isHealthy(target);
    console.log(`cluster     ${target.address} (TEMPORAL_ADDRESS or --address), namespace ${target.namespace}: ${healthy ? 'healthy' : 'NOT reachable'}`);
    if (target.uiUrl) console.log(`Web UI      ${target.uiUrl}`);
    return healthy ? 0 : 1;
  }
  const status = await devServerStatus();
  const state = status.healthy ? (status.pid ? 'running' : 'running (not started by this project: no pid file)') : status.pid ? 'NOT healthy' : 'not running';
  console.log(`dev server  ${status.address}: ${state}`);
  console.log(`Web UI      ${status.uiUrl}`);
  console.log(`database    ${status.dbFile}`);
  console.log(`log         ${status.logFile}`);
  if (status.pid) console.log(`pid         ${status.pid}${status.startedAt ? ` (started ${status.startedAt})` : ''}`);
  return status.healthy ? 0 : 1;
}

/** Foreground: the server is our child; Ctrl-C reaches it too (same process group); wait for it to exit. */
async function runForeground(overrides: TargetOverrides): Promise<number> {
  const target = resolveTarget(overrides);
  if (!target.embedded) throw new UsageError('--foreground runs the local dev server, but TEMPORAL_ADDRESS or --address names an external cluster');
  const server = await ensureDevServer({ namespace: target.namespace, foreground: true });
  if (!server.child) {
    console.error(`a Temporal server already answers on ${server.address}${server.pid ? ` (pid ${server.pid}, started in the background)` : ''}; stop it first (dual-ipo server --stop) or use it as it is`);
    return 1;
  }
  const child = server.child;
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1))));
  // A SIGTERM aimed at this process alone (not the group) must still stop the server.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const connection = await Connection.connect({ address: server.address });
  try {
    await ensureLocalNamespace(connection, target.namespace);
    await ensureSearchAttributes(connection, target.namespace);
  } finally {
    await connection.close();
  }
  console.log(`Temporal dev server at ${server.address} (namespace ${server.namespace}), Web UI ${server.uiUrl}, database ${server.dbFile}. Ctrl-C stops it.`);
  const code = await exited;
  await stopDevServer(); // clears the pid file
  console.log('Temporal dev server stopped');
  return code;
}

export async function serverCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, SERVER_OPTIONS, SERVER_HELP);
  const overrides = targetOverrides(values);
  if (help) {
    console.log(SERVER_HELP);
    return 0;
  }
  if ([values.status, values.stop, values.foreground].filter(Boolean).length > 1) throw new UsageError(`--status, --stop and --foreground exclude each other\n\n${SERVER_HELP}`);
  if (values.status) return printStatus(overrides);
  if (values.stop) {
    const stopped = await stopDevServer();
    console.log(stopped ? 'stopped the local Temporal dev server' : 'no local Temporal dev server started by this project is running');
    return 0;
  }
  if (values.foreground) return runForeground(overrides);
  const target = await ensureTemporal(overrides);
  if (!target.embedded) {
    console.log(`Temporal cluster ${target.address} (TEMPORAL_ADDRESS or --address), namespace ${target.namespace}: reachable, search attributes checked; nothing local started`);
    return 0;
  }
  const status = await devServerStatus();
  console.log(`Temporal dev server ready at ${target.address} (namespace ${target.namespace})`);
  console.log(`Web UI      ${target.uiUrl}`);
  console.log(`database    ${status.dbFile}`);
  console.log(`log         ${status.logFile}`);
  if (status.pid) console.log(`pid         ${status.pid} (runs in the background; stop it with: dual-ipo server --stop)`);
  return 0;
}
