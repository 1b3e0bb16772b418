// The embedded Temporal: `temporal server start-dev` with SQLite in the data folder and the Web UI.
// Started detached (own process group, output to a log file, pid file) so it outlives the command
// that started it and every later command reuses it; `--foreground` keeps it attached instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { findTemporalCli } from './binary';
import { dataDir, devServerFiles } from './paths';
import { searchAttributeFlags } from './search-attributes';
import { DEFAULT_NAMESPACE, devServerPorts, type TemporalTarget } from './target';

export interface DevServerOptions {
  namespace?: string;
  /** frontend port (default DUAL_IPO_TEMPORAL_PORT or 7233) */
  port?: number;
  /** Web UI port (default DUAL_IPO_TEMPORAL_UI_PORT or port + 1000) */
  uiPort?: number;
  /** data folder (default DUAL_IPO_DATA_DIR or <repo>/.data); the server keeps its files in <dataDir>/temporal/ */
  dataDir?: string;
  /** attach the server to this process (stdio inherited, not detached); the caller stops it */
  foreground?: boolean;
  /** how long to wait for the server to become healthy (default 60 s) */
  timeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  namespace: string;
  /** false: a healthy server was already answering on the port and is reused */
  started: boolean;
  /** from the pid file; absent for a reused server this project did not start */
  pid?: number;
  dbFile: string;
  logFile: string;
  /** the attached child, with `foreground` only */
  child?: ChildProcess;
}

interface PidRecord {
  pid: number;
  address: string;
  uiUrl: string;
  dbFile: string;
  startedAt: string;
}

const SERVING = 1; // grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether anything accepts TCP connections there. gRPC keeps retrying a refused port until its deadline; this answers at once. */
function acceptsTcp(address: string, timeoutMs: number): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** True when a Temporal frontend answers the gRPC health check with SERVING. Never throws. */
export async function isHealthy(address: string | TemporalTarget, timeoutMs = 2_000): Promise<boolean> {
  const target = typeof address === 'string' ? { address } : address;
  let connection: Connection | undefined;
  try {
    if (!(await acceptsTcp(target.address, timeoutMs))) return false;
    connection = await Connection.connect({
      address: target.address,
      connectTimeout: timeoutMs,
      // explicit `false`: an API key alone must not switch TLS on when the target says plaintext
      tls: ('tls' in target && target.tls) || false,
      ...('apiKey' in target && target.apiKey ? { apiKey: target.apiKey } : {}),
    });
    const response = await connection.withDeadline(Date.now() + timeoutMs, () => connection!.healthService.check({}));
    return response.status === SERVING;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0) until its parent reaps it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all we have
  }
}

/** Guards against a recycled pid: on Linux the process must still be a `temporal server start-dev`. */
function looksLikeDevServer(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(cmdline, 'utf8').split('\0').includes('start-dev');
  } catch {
    return false;
  }
}

function readPidRecord(pidFile: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as PidRecord;
    return Number.isInteger(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the server this project started, when it is still running; clears a stale pid file. */
function runningPid(pidFile: string): number | undefined {
  const record = readPidRecord(pidFile);
  if (!record) return undefined;
  if (looksLikeDevServer(record.pid)) return record.pid;
  rmSync(pidFile, { force: true });
  return undefined;
}

/**
 * Only one process may start the server: two `temporal server start-dev` racing for the port would
 * both open the SQLite file. A lock file (created exclusively, holding the holder's pid) serialises
 * them; a lock whose holder died is taken over.
 */
async function withStartLock<T>(lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: number;
      let ageMs: number;
      try {
        holder = Number(readFileSync(lockFile, 'utf8').trim() || NaN);
        ageMs = Date.now() - statSync(lockFile).mtimeMs;
      } catch {
        continue; // released between our attempt and the read: try again
      }
      if (!Number.isInteger(holder) || !isAlive(holder) || ageMs > timeoutMs) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another process (pid ${holder}) has been starting the Temporal dev server for too long; remove ${lockFile} if that is wrong`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function layout(opts: Pick<DevServerOptions, 'port' | 'uiPort' | 'dataDir' | 'namespace'>) {
  const ports = devServerPorts();
  const port = opts.port ?? ports.port;
  const uiPort = opts.uiPort ?? (opts.port !== undefined ? opts.port + 1000 : ports.uiPort);
  const files = devServerFiles(opts.dataDir ?? dataDir());
  return { port, uiPort, files, address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}`, namespace: opts.namespace ?? DEFAULT_NAMESPACE };
}

/**
 * Starts the embedded dev server, or reuses whatever healthy Temporal already answers on the port.
 * Does not register search attributes: `ensureTemporal()` does that for both cases.
 */
export async function ensureDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const { port, uiPort, files, address, uiUrl, namespace } = layout(opts);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const info = { address, uiUrl, namespace, dbFile: files.dbFile, logFile: files.logFile };
  const reuse = (): DevServer => {
    const pid = runningPid(files.pidFile);
    return { ...info, started: false, ...(pid ? { pid } : {}) };
  };
  if (await isHealthy(address)) return reuse();

  mkdirSync(files.dir, { recursive: true });
  return withStartLock(files.lockFile, timeoutMs, async () => {
    // Whoever held the lock before us may have just started it.
    if (await isHealthy(address)) return reuse();
    const cli = findTemporalCli();
    const args = ['server', 'start-dev', '--db-filename', files.dbFile, '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--namespace', namespace, '--log-level', 'warn', ...searchAttributeFlags()];
    const log = opts.foreground ? undefined : openSync(files.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cli.path, args, opts.foreground ? { stdio: ['ignore', 'inherit', 'inherit'] } : { detached: true, stdio: ['ignore', log!, log!] });
    } finally {
      if (log !== undefined) closeSync(log);
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    let exitCode: number | null | undefined;
    child.once('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
    if (!opts.foreground) child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cli.path}: ${(await spawnError).message}`);
    const record: PidRecord = { pid: child.pid, address, uiUrl, dbFile: files.dbFile, startedAt: new Date().toISOString() };
    writeFileSync(files.pidFile, JSON.stringify(record) + '\n');

    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        rmSync(files.pidFile, { force: true });
        const where = opts.foreground ? 'its output above' : `${files.logFile}:\n${logTail(files.logFile)}`;
        throw new Error(
          `the Temporal dev server (${cli.path}, found via ${cli.source}) exited with code ${exitCode} while starting on ${address} (UI ${uiPort}). ` +
            `If a port is taken, choose others with DUAL_IPO_TEMPORAL_PORT / DUAL_IPO_TEMPORAL_UI_PORT. See ${where}`,
        );
      }
      if (await isHealthy(address, 1_000)) return { ...info, started: true, pid: child.pid, ...(opts.foreground ? { child } : {}) };
      await sleep(250);
    }
    child.kill('SIGTERM');
    rmSync(files.pidFile, { force: true });
    throw new Error(`the Temporal dev server did not become healthy on ${address} within ${timeoutMs / 1000}s; see ${files.logFile}`);
  });
}

export interface DevServerStatus {
  address: string;
  uiUrl: string;
  healthy: boolean;
  /** pid of the server this project started (pid file), when running */
  pid?: number;
  dbFile: string;
  logFile: string;
  startedAt?: string;
}

/** What `dual-ipo server --status` shows; starts nothing. */
export async function devServerStatus(opts: Pick<DevServerOptions, 'port' | 'uiPort' | 'dataDir'> = {}): Promise<DevServerStatus> {
  const { files, address, uiUrl } = layout(opts);
  const pid = runningPid(files.pidFile);
  const record = pid ? readPidRecord(files.pidFile) : undefined;
  return {
    address: record?.address ?? address,
    uiUrl: record?.uiUrl ?? uiUrl,
    healthy: await isHealthy(record?.address ?? address),
    ...(pid ? { pid } : {}),
    dbFile: record?.dbFile ?? files.dbFile,
    logFile: files.logFile,
    ...(record?.startedAt ? { startedAt: record.startedAt } : {}),
  };
}

/**
 * Stops the server this project started (found through its pid file): SIGTERM, then SIGKILL after
 * `timeoutMs`. Returns false when none is running. A server started by someone else is left alone.
 */
export async function stopDevServer(opts: Pick<DevServerOptions, 'dataDir'> & { timeoutMs?: number } = {}): Promise<boolean> {
  const files = devServerFiles(opts.dataDir ?? dataDir());
  const pid = runningPid(files.pidFile);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  rmSync(files.pidFile, { force: true });
  return true;
}
