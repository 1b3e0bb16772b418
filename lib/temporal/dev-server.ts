// The embedded Temporal: `temporal server start-dev` with SQLite in the data folder and the Web UI.
// Started detached (own process group, output to a log file, pid file) so it outlives the command
// that started it and every later command reuses it; `--foreground` keeps it attached instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { freePort } from '../free-port';
import { findTemporalCli } from './binary';
import { dataDir, devServerFiles } from './paths';
import { searchAttributeFlags } from './search-attributes';
import { DEFAULT_NAMESPACE, devServerPorts, type TemporalTarget } from './target';

export interface DevServerOptions {
  namespace?: string;
  /**
   * frontend port (default DUAL_IPO_TEMPORAL_PORT or 7233). 'free': any free port, picked again if
   * it is taken before the server binds it; the data folder's running server is reused on whatever
   * port it has (throwaway servers: tests, benchmarks).
   */
  port?: number | 'free';
  /** Web UI port (default DUAL_IPO_TEMPORAL_UI_PORT, port + 1000, or 'free' when port is) */
  uiPort?: number | 'free';
  /** picks a 'free' port (default: one the OS says is free now) */
  pickPort?: () => Promise<number>;
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

const urls = (port: number, uiPort: number) => ({ address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}` });

/** Where a server on fixed ports listens, and its files. */
function fixedLayout(opts: { port?: number; uiPort?: number; dataDir?: string; namespace?: string }) {
  const ports = devServerPorts();
  const port = opts.port ?? ports.port;
  const uiPort = opts.uiPort ?? (opts.port !== undefined ? opts.port + 1000 : ports.uiPort);
  return { free: false as const, port, uiPort, files: devServerFiles(opts.dataDir ?? dataDir()), namespace: opts.namespace ?? DEFAULT_NAMESPACE, ...urls(port, uiPort) };
}

function layout(opts: Pick<DevServerOptions, 'port' | 'uiPort' | 'dataDir' | 'namespace'>) {
  const { port, uiPort } = opts;
  if (port !== 'free' && uiPort !== 'free') return fixedLayout({ ...opts, port, uiPort });
  const files = devServerFiles(opts.dataDir ?? dataDir());
  return { free: true as const, port: port ?? devServerPorts().port, uiPort: uiPort ?? ('free' as const), files, namespace: opts.namespace ?? DEFAULT_NAMESPACE };
}

/** Starts that a port conflict may cause before one succeeds. */
const MAX_STARTS = 5;

/** The port of a `listen tcp 127.0.0.1:37535: bind: address already in use` in the server's output. */
export function portInUse(output: string): number | undefined {
  const match = /listen tcp \S*:(\d+): bind: address already in use/.exec(output);
  return match ? Number(match[1]) : undefined;
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

const fileSize = (file: string) => (existsSync(file) ? statSync(file).size : 0);

class StartExited extends Error {
  constructor(
    message: string,
    /** what the server wrote during this start */
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * Starts the embedded dev server, or reuses whatever healthy Temporal already answers on the port.
 * Does not register search attributes: `ensureTemporal()` does that for both cases.
 *
 * A port found free can be taken before the server binds it; so can the ports `start-dev` picks for
 * itself (HTTP API, metrics, internal services). When the server exits on `address already in use`
 * for such a port, or for a 'free' port of ours, it is started again (still holding the start lock);
 * a fixed port of ours that is taken is the caller's to change, and fails at once.
 */
export async function ensureDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const plan = layout(opts);
  const { files, namespace } = plan;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const fileInfo = { dbFile: files.dbFile, logFile: files.logFile };

  /** The server to reuse: a healthy one on the fixed port, or, with 'free' ports, this data folder's. */
  const running = async (): Promise<DevServer | undefined> => {
    if (!plan.free) {
      if (!(await isHealthy(plan.address))) return undefined;
      const pid = runningPid(files.pidFile);
      return { address: plan.address, uiUrl: plan.uiUrl, namespace, ...fileInfo, started: false, ...(pid ? { pid } : {}) };
    }
    const pid = runningPid(files.pidFile);
    const record = pid ? readPidRecord(files.pidFile) : undefined;
    if (!pid || !record || !(await isHealthy(record.address))) return undefined;
    return { address: record.address, uiUrl: record.uiUrl, namespace, ...fileInfo, started: false, pid };
  };
  const reused = await running();
  if (reused) return reused;

  mkdirSync(files.dir, { recursive: true });
  return withStartLock(files.lockFile, timeoutMs, async () => {
    // Whoever held the lock before us may have just started it.
    const started = await running();
    if (started) return started;
    const pick = opts.pickPort ?? freePort;
    let port = plan.port === 'free' ? await pick() : plan.port;
    let uiPort = plan.uiPort === 'free' ? await pick() : plan.uiPort;
    for (let attempt = 1; ; attempt++) {
      while (uiPort === port && plan.uiPort === 'free') uiPort = await pick();
      try {
        return await startOnce(opts, files, namespace, port, uiPort, timeoutMs);
      } catch (err) {
        const conflict = err instanceof StartExited ? portInUse(err.output) : undefined;
        const ours = conflict === port || conflict === uiPort;
        const repickable = (conflict === port && plan.port === 'free') || (conflict === uiPort && plan.uiPort === 'free');
        if (conflict === undefined || (ours && !repickable) || attempt >= MAX_STARTS) throw err;
        if (conflict === port) port = await pick();
        if (conflict === uiPort) uiPort = await pick();
      }
    }
  });
}

/** One `temporal server start-dev`, waited for until healthy; the caller holds the start lock. */
async function startOnce(opts: DevServerOptions, files: ReturnType<typeof devServerFiles>, namespace: string, port: number, uiPort: number, timeoutMs: number): Promise<DevServer> {
  const { address, uiUrl } = urls(port, uiPort);
  const cli = findTemporalCli();
  const args = ['server', 'start-dev', '--db-filename', files.dbFile, '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--namespace', namespace, '--log-level', 'warn', ...searchAttributeFlags()];
  const logStart = opts.foreground ? 0 : fileSize(files.logFile);
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
      throw new StartExited(
        `the Temporal dev server (${cli.path}, found via ${cli.source}) exited with code ${exitCode} while starting on ${address} (UI ${uiPort}). ` +
          `If a port is taken, choose others with DUAL_IPO_TEMPORAL_PORT / DUAL_IPO_TEMPORAL_UI_PORT. See ${where}`,
        opts.foreground ? '' : readFrom(files.logFile, logStart),
      );
    }
    if (await isHealthy(address, 1_000)) return { address, uiUrl, namespace, dbFile: files.dbFile, logFile: files.logFile, started: true, pid: child.pid, ...(opts.foreground ? { child } : {}) };
    await sleep(250);
  }
  child.kill('SIGTERM');
  rmSync(files.pidFile, { force: true });
  throw new Error(`the Temporal dev server did not become healthy on ${address} within ${timeoutMs / 1000}s; see ${files.logFile}`);
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
export async function devServerStatus(opts: Pick<DevServerOptions, 'dataDir'> & { port?: number; uiPort?: number } = {}): Promise<DevServerStatus> {
  const { files, address, uiUrl } = fixedLayout(opts);
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
