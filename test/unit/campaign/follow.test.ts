// The `run` follower across Temporal outages: connection errors make it wait and re-attach, a real
// outcome ends it. First with a client stub (any length of outage), then against the dev server
// stopped and restarted under a waiting follower.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import { followResult, isConnectionError } from '../../../lib/campaign/follow';
import { outageReporter } from '../../../lib/cli/run-command';
import { ensureDevServer, stopDevServer } from '../../../lib/temporal/dev-server';
import { freePort } from '../temporal/fixtures/free-port';

/** What the SDK throws when the long poll gives up on a stopped server. */
function unavailable(): Error {
  const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233'), { code: 14 });
  return Object.assign(new Error('Failed to query history'), { name: 'ServiceError', cause: grpc });
}

function stubClient(outcomes: Array<() => Promise<unknown>>) {
  let calls = 0;
  const client = {
    workflow: {
      getHandle: (id: string) => ({
        workflowId: id,
        result: () => {
          const next = outcomes[Math.min(calls, outcomes.length - 1)]!;
          calls++;
          return next();
        },
      }),
    },
  };
  return { client: client as unknown as Pick<Client, 'workflow'>, calls: () => calls };
}

describe('followResult with a client stub', () => {
  test('rides out a long run of UNAVAILABLE and returns the result once the server answers', async () => {
    const result = { campaignId: 'c', rounds: 2 };
    const { client, calls } = stubClient([...Array.from({ length: 30 }, () => () => Promise.reject(unavailable())), () => Promise.resolve(result)]);
    const events: string[] = [];
    const got = await followResult(client, 'c', { retryMs: 1, unreachable: () => events.push('down'), back: () => events.push('up') });
    assert.deepEqual(got, result);
    assert.equal(calls(), 31, 'it attached again after every failed attempt');
    assert.deepEqual(events, ['down', 'up'], 'one line for the outage, one for the return');
  });

  test('a real failure ends it at once, also right after an outage', async () => {
    const failed = new WorkflowFailedError('Workflow execution failed', new Error('stage sample failed'), 'NON_RETRYABLE_FAILURE');
    const { client, calls } = stubClient([() => Promise.reject(unavailable()), () => Promise.reject(failed), () => Promise.resolve('never')]);
    await assert.rejects(followResult(client, 'c', { retryMs: 1 }), (err) => err === failed);
    assert.equal(calls(), 2);
  });

  test('connection errors are told apart from refusals and workflow outcomes', () => {
    assert.equal(isConnectionError(unavailable()), true);
    assert.equal(isConnectionError(Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 })), true);
    assert.equal(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isConnectionError(Object.assign(new Error('5 NOT_FOUND: workflow not found'), { code: 5 })), false);
    assert.equal(isConnectionError(new WorkflowFailedError('Workflow execution terminated', undefined, 'NON_RETRYABLE_FAILURE')), false);
  });

  test('the reporter prints one line per outage and one when Temporal is back', () => {
    const lines: string[] = [];
    let t = Date.parse('2026-01-01T00:00:00Z');
    const r = outageReporter((l) => lines.push(l), () => new Date(t));
    r.reachable();
    r.unreachable(unavailable());
    t += 40_000;
    r.unreachable(unavailable());
    r.reachable();
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^Temporal unreachable since 2026-01-01T00:00:00\.000Z .*UNAVAILABLE.*, retrying/);
    assert.match(lines[1]!, /reachable again after 40 s/);
  });
});

describe('followResult against the dev server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dual-ipo-follow-'));
  after(async () => {
    await stopDevServer({ dataDir }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a follower waits through a server stop and restart, then ends with the real outcome', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const server = await ensureDevServer({ dataDir, port, uiPort });
    // Few SDK-level retries, so the outage reaches the follower in seconds instead of the default ~40 s.
    const connection = await Connection.connect({ address: server.address, interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))] });
    try {
      const client = new Client({ connection });
      const id = `follow-${Date.now()}`;
      // No worker serves this queue: the workflow stays running until it is terminated.
      await client.workflow.start('noSuchWorkflow', { workflowId: id, taskQueue: 'nobody-serves-this' });
      let down: () => void;
      const wentDown = new Promise<void>((resolve) => (down = resolve));
      const events: string[] = [];
      const following = followResult(client, id, {
        retryMs: 200,
        unreachable: () => (events.push('down'), down()),
        back: () => events.push('up'),
      });
      following.catch(() => undefined);
      assert.equal(await stopDevServer({ dataDir }), true);
      await wentDown;
      await ensureDevServer({ dataDir, port, uiPort });
      await client.workflow.getHandle(id).terminate('test over');
      await assert.rejects(following, (err) => err instanceof WorkflowFailedError && err.cause instanceof TerminatedFailure);
      assert.deepEqual(events, ['down', 'up']);
    } finally {
      await connection.close();
    }
  });
});
