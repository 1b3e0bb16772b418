// deploy/probe.mjs, the worker pods' exec probes, run as the kubelet runs them: a process whose exit
// code is the verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/deploy-tools';

const PROBE = join(REPO_ROOT, 'deploy', 'probe.mjs');
const probe = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const result = spawnSync(process.execPath, [PROBE, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { status: result.status, stderr: result.stderr };
};

test('ready: 0 while the frontend accepts connections, 1 once it does not', async () => {
  const server: Server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal(probe(['ready'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }).status, 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  const down = probe(['ready'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot connect to 127\.0\.0\.1:\d+/);
});

test('ready: 1 without TEMPORAL_ADDRESS', () => {
  const unset = probe(['ready']);
  assert.equal(unset.status, 1);
  assert.match(unset.stderr, /TEMPORAL_ADDRESS is not set/);
});

test('live: 0 for a running worker, 1 when it is stopped or gone; 2 for a wrong mode', async (t) => {
  // A unique script path stands in for bin/dual-ipo.mjs so that real workers on this machine do not count.
  const marker = `/probe-test-${randomBytes(6).toString('hex')}/bin/dual-ipo.mjs`;
  const live = () => probe(['live', '--match', marker]);
  assert.equal(live().status, 1, 'no worker yet');
  const worker: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker, 'worker'], { stdio: 'ignore' });
  t.after(() => worker.kill('SIGKILL'));
  await new Promise((resolve) => worker.once('spawn', resolve));
  assert.equal(live().status, 0, live().stderr);
  worker.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const stopped = live();
  assert.equal(stopped.status, 1);
  assert.match(stopped.stderr, /in state T/);
  worker.kill('SIGKILL');
  await new Promise((resolve) => worker.once('exit', resolve));
  assert.equal(live().status, 1);
  assert.equal(probe(['nonsense']).status, 2);
});
