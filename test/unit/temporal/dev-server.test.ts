// The embedded dev server on free ports in a temp data folder: start detached, reuse, register
// search attributes (also on an existing database file), status, stop, clear errors. Each start
// takes about a second.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { findTemporalCli } from '../../../lib/temporal/binary';
import { serverCommand } from '../../../lib/cli/server-command';
import { ensureTemporal } from '../../../lib/temporal/connection';
import { ensureDevServer, isHealthy, stopDevServer } from '../../../lib/temporal/dev-server';
import { devServerFiles } from '../../../lib/temporal/paths';
import { ensureSearchAttributes, SearchAttributeError } from '../../../lib/temporal/search-attributes';
import { SEARCH_ATTRIBUTE_KEYS } from '../../../workflows/search-attributes';
import { freePort } from './fixtures/free-port';

const ENV_VARS = ['DUAL_IPO_DATA_DIR', 'DUAL_IPO_TEMPORAL_PORT', 'DUAL_IPO_TEMPORAL_UI_PORT', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME'];
const savedEnv = Object.fromEntries(ENV_VARS.map((name) => [name, process.env[name]]));
const dataDirs: string[] = [];
let root: string;

function newDataDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  dataDirs.push(dir);
  return dir;
}

async function customAttributes(address: string, namespace = 'default'): Promise<Record<string, unknown>> {
  const connection = await Connection.connect({ address });
  try {
    return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } finally {
    await connection.close();
  }
}

async function captureLog(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = mock.method(console, 'log', (...args: unknown[]) => void lines.push(args.join(' ')));
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    log.mock.restore();
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'dual-ipo-devserver-'));
  for (const name of ENV_VARS) delete process.env[name];
});

after(async () => {
  for (const dir of dataDirs) await stopDevServer({ dataDir: dir }).catch(() => undefined);
  for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  rmSync(root, { recursive: true, force: true });
});

describe('dual-ipo server (default data folder and ports from the environment)', () => {
  let address: string;
  let dataDir: string;

  before(async () => {
    dataDir = newDataDir('main');
    process.env.DUAL_IPO_DATA_DIR = dataDir;
    process.env.DUAL_IPO_TEMPORAL_PORT = String(await freePort());
    process.env.DUAL_IPO_TEMPORAL_UI_PORT = String(await freePort());
    address = `127.0.0.1:${process.env.DUAL_IPO_TEMPORAL_PORT}`;
  });

  test('starts a detached dev server with SQLite in the data folder, the Web UI and the search attributes', async () => {
    const { code, out } = await captureLog(() => serverCommand([]));
    assert.equal(code, 0);
    assert.match(out, new RegExp(`ready at ${address}`));
    const files = devServerFiles(dataDir);
    assert.ok(existsSync(files.dbFile), 'SQLite database in <data>/temporal/temporal.db');
    assert.ok(existsSync(files.logFile), 'server log in <data>/temporal/server.log');
    const { pid } = JSON.parse(readFileSync(files.pidFile, 'utf8')) as { pid: number };
    // detached: its own process group, so Ctrl-C on the command that started it does not reach it
    const pgid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    assert.equal(pgid, pid);
    assert.ok(await isHealthy(address));
    const attributes = await customAttributes(address);
    for (const key of SEARCH_ATTRIBUTE_KEYS) assert.ok(key.name in attributes, `${key.name} registered`);
    const ui = await fetch(`http://127.0.0.1:${process.env.DUAL_IPO_TEMPORAL_UI_PORT}/`);
    assert.equal(ui.status, 200, 'Web UI answers');
  });

  test('a second start reuses the running server', async () => {
    const before = readFileSync(devServerFiles(dataDir).pidFile, 'utf8');
    const server = await ensureDevServer();
    assert.equal(server.started, false);
    assert.equal(server.pid, JSON.parse(before).pid);
  });

  test('a namespace the running server lacks is registered, with its search attributes', async () => {
    const target = await ensureTemporal({ namespace: 'second-ns' });
    assert.equal(target.embedded, true);
    const attributes = await customAttributes(address, 'second-ns');
    for (const key of SEARCH_ATTRIBUTE_KEYS) assert.ok(key.name in attributes, `${key.name} registered in second-ns`);
  });

  test('--status prints address, Web UI, database file and pid', async () => {
    const { code, out } = await captureLog(() => serverCommand(['--status']));
    assert.equal(code, 0);
    assert.match(out, new RegExp(`${address}: running`));
    assert.match(out, /Web UI +http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(out.includes(devServerFiles(dataDir).dbFile));
    assert.match(out, /pid +\d+/);
  });

  test('with TEMPORAL_ADDRESS nothing local is started: the cluster is only checked', async () => {
    const otherData = newDataDir('external');
    process.env.TEMPORAL_ADDRESS = address;
    process.env.DUAL_IPO_DATA_DIR = otherData;
    try {
      const target = await ensureTemporal();
      assert.equal(target.embedded, false);
      assert.equal(existsSync(devServerFiles(otherData).dir), false, 'no local server files');
    } finally {
      delete process.env.TEMPORAL_ADDRESS;
      process.env.DUAL_IPO_DATA_DIR = dataDir;
    }
  });

  test('--stop stops it and --status then says so', async () => {
    const stopped = await captureLog(() => serverCommand(['--stop']));
    assert.equal(stopped.code, 0);
    assert.match(stopped.out, /stopped the local Temporal dev server/);
    assert.equal(await isHealthy(address), false);
    assert.equal(existsSync(devServerFiles(dataDir).pidFile), false);
    const status = await captureLog(() => serverCommand(['--status']));
    assert.equal(status.code, 1);
    assert.match(status.out, /not running/);
  });

  test('conflicting flags are a usage error', async () => {
    await assert.rejects(serverCommand(['--stop', '--status']), { name: 'UsageError' });
  });
});

describe('search attributes on an existing database file', () => {
  test('start-dev ignores --search-attribute for an existing file; ensureSearchAttributes adds the missing ones', async () => {
    const dataDir = newDataDir('existing-db');
    const port = await freePort();
    const files = devServerFiles(dataDir);
    mkdirSync(files.dir, { recursive: true });
    // An older database: created with only the first attribute.
    const first = SEARCH_ATTRIBUTE_KEYS[0];
    const old = spawn(findTemporalCli().path, ['server', 'start-dev', '--headless', '--db-filename', files.dbFile, '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', '--search-attribute', `${first.name}=Keyword`], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 30_000;
      while (!(await isHealthy(`127.0.0.1:${port}`))) {
        assert.ok(Date.now() < deadline, 'old server came up');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      old.kill('SIGTERM');
      await new Promise((r) => old.once('exit', r));
    }

    const server = await ensureDevServer({ dataDir, port, uiPort: await freePort() });
    assert.equal(server.started, true);
    const before = await customAttributes(server.address);
    assert.deepEqual(Object.keys(before).filter((n) => n.startsWith('DualIpo')), [first.name], 'flags were ignored on the existing file');

    const connection = await Connection.connect({ address: server.address });
    try {
      const added = await ensureSearchAttributes(connection, 'default');
      assert.deepEqual(added.sort(), SEARCH_ATTRIBUTE_KEYS.slice(1).map((k) => k.name).sort());
      assert.deepEqual(await ensureSearchAttributes(connection, 'default'), [], 'idempotent');
      const clash = defineSearchAttributeKey(first.name, 'INT');
      await assert.rejects(ensureSearchAttributes(connection, 'default', { keys: [clash] }), (err: Error) => {
        assert.ok(err instanceof SearchAttributeError && err.reason === 'type-clash');
        assert.match(err.message, /DualIpoCampaignId is KEYWORD, expected INT/);
        return true;
      });
    } finally {
      await connection.close();
    }
    assert.equal(await stopDevServer({ dataDir }), true);
  });
});

describe('starting', () => {
  test('concurrent starts on one data folder start one server and share it', async () => {
    const dataDir = newDataDir('concurrent');
    // 'free': ports picked under the start lock and picked again if taken before the bind; a port
    // picked here and bound a moment later was lost once to another process (issue 19, item 12).
    const servers = await Promise.all([1, 2, 3].map(() => ensureDevServer({ dataDir, port: 'free', uiPort: 'free' })));
    assert.equal(servers.filter((s) => s.started).length, 1);
    assert.equal(new Set(servers.map((s) => s.pid)).size, 1);
    assert.equal(new Set(servers.map((s) => s.address)).size, 1, 'all three were told the one address');
    assert.equal(await stopDevServer({ dataDir }), true);
    assert.equal(await stopDevServer({ dataDir }), false, 'nothing left to stop');
  });

  // Issue 19, item 12: a port found free was taken before the server bound it.
  test('a free port taken between pick and bind: the start picks another and succeeds', async () => {
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    const picks: number[] = [];
    // The first pick is the port another process grabs right after it was found free.
    const pickPort = async () => {
      const port = picks.length === 0 ? taken : await freePort();
      picks.push(port);
      return port;
    };
    const dataDir = newDataDir('lost-race');
    try {
      const server = await ensureDevServer({ dataDir, port: 'free', uiPort: 'free', pickPort });
      assert.equal(server.started, true);
      assert.deepEqual(picks.length, 3, 'frontend, UI, then a new frontend port');
      assert.equal(server.address, `127.0.0.1:${picks[2]}`);
      assert.ok(await isHealthy(server.address));
      assert.match(readFileSync(devServerFiles(dataDir).logFile, 'utf8'), new RegExp(`127\\.0\\.0\\.1:${taken}: bind: address already in use`));
    } finally {
      squatter.close();
      await stopDevServer({ dataDir });
    }
  });

  test('a port start-dev picked for itself taken before it binds: started again on the same ports', async (t) => {
    const dir = newDataDir('internal-race');
    const marker = join(dir, 'failed-once');
    const fake = join(dir, 'fake-temporal');
    // The first start loses a race for one of start-dev's own ports (HTTP API, metrics, internal services).
    writeFileSync(fake, `#!/bin/sh\nif [ ! -e '${marker}' ]; then : > '${marker}'; echo 'Error: listen tcp 127.0.0.1:1: bind: address already in use' >&2; exit 1; fi\nexec '${findTemporalCli().path}' "$@"\n`, { mode: 0o755 });
    const saved = process.env.TEMPORAL_CLI;
    process.env.TEMPORAL_CLI = fake;
    t.after(() => {
      if (saved === undefined) delete process.env.TEMPORAL_CLI;
      else process.env.TEMPORAL_CLI = saved;
    });
    const [port, uiPort] = [await freePort(), await freePort()];
    const server = await ensureDevServer({ dataDir: dir, port, uiPort });
    assert.equal(server.started, true);
    assert.equal(server.address, `127.0.0.1:${port}`, 'the caller\'s fixed ports are kept');
    assert.ok(existsSync(marker), 'the first start failed');
    assert.ok(await isHealthy(server.address));
    assert.equal(await stopDevServer({ dataDir: dir }), true);
  });

  test('a port taken by something that is not Temporal fails with the log and the variable to change', async () => {
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      await assert.rejects(ensureDevServer({ dataDir: newDataDir('taken'), port, uiPort: await freePort() }), (err: Error) => {
        assert.match(err.message, /exited with code/);
        assert.match(err.message, /address already in use/);
        assert.match(err.message, /DUAL_IPO_TEMPORAL_PORT/);
        return true;
      });
    } finally {
      squatter.close();
    }
  });
});
