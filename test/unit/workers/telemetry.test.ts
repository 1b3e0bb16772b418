// The process's one Temporal runtime: installRuntime() starts the Prometheus endpoint at once (before
// any connection) and refuses a second, different installation instead of silently dropping it.
// Its own process (node --test runs each file apart), since a runtime is installed once per process.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { freePort } from '../../../lib/free-port';
import { installRuntime } from '../../../workers/telemetry';

after(async () => {
  await Runtime.instance().shutdown();
});

test('the endpoint serves /metrics on loopback; the same settings again are fine, other settings throw', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  installRuntime({ metricsAddress: address });
  const response = await fetch(`http://${address}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  await response.text();

  installRuntime({ metricsAddress: address });
  // Refused before anything is bound, so any other port will do.
  assert.throws(() => installRuntime({ metricsAddress: '127.0.0.1:1' }), /already installed/);
  assert.throws(() => installRuntime({ metricsAddress: address, logger: new DefaultLogger('WARN') }), /already installed/);
  assert.throws(() => installRuntime({ logger: new DefaultLogger('WARN') }), /already installed/);
});
