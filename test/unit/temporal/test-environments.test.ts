// Smoke test of the two test servers the suites rely on, from the project's own binaries (never a
// download), and of the workflow bundler (webpack + swc, whose native binary comes from a platform
// package that npm installs without running install scripts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createLocalEnv, createTimeSkippingEnv } from '../../helpers/temporal';
import { SEARCH_ATTRIBUTE_KEYS } from '../../../workflows/search-attributes';
import * as activities from './fixtures/smoke-activities';
import { smokeWorkflow } from './fixtures/smoke-workflows';

const workflowsPath = join(import.meta.dirname, 'fixtures', 'smoke-workflows.ts');
Runtime.install({ logger: new DefaultLogger('WARN') }); // no bundler chatter in the test output

describe('time-skipping test server (temporal-test-server)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  test('runs a workflow bundled from a .ts workflowsPath and skips a day-long timer', async () => {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'smoke-ts', workflowsPath, activities });
    const startedAt = Date.now();
    const result = await worker.runUntil(env.client.workflow.execute(smokeWorkflow, { workflowId: 'smoke-ts', taskQueue: 'smoke-ts', args: ['time', '1 day'] }));
    assert.equal(result, 'hello time');
    assert.ok(Date.now() - startedAt < 60_000, 'the 1-day timer was skipped');
  });
});

describe('dev server (temporal server start-dev) through createLocalEnv', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createLocalEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  test('has the campaign search attributes registered', async () => {
    const listed = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const key of SEARCH_ATTRIBUTE_KEYS) assert.ok(key.name in (listed.customAttributes ?? {}), `${key.name} registered`);
  });

  test('runs a workflow that upserts search attributes, findable by a visibility query', async () => {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'smoke-local', workflowsPath, activities });
    const result = await worker.runUntil(env.client.workflow.execute(smokeWorkflow, { workflowId: 'smoke-local', taskQueue: 'smoke-local', args: ['dev', '10 ms'] }));
    assert.equal(result, 'hello dev');
    // Visibility is eventually consistent, even on SQLite.
    const deadline = Date.now() + 10_000;
    let found: string[] = [];
    while (Date.now() < deadline && found.length === 0) {
      found = [];
      for await (const wf of env.client.workflow.list({ query: `DualIpoRound = 3 AND DualIpoStage = "smoke"` })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(found, ['smoke-local']);
  });
});
