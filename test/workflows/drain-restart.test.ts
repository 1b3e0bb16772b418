// A drained command stage costs no attempt (workflows/stages.ts): the workflow marks its requests
// drainRestarts, a drained attempt fails without retry, and the stage is scheduled again at once, up
// to MAX_DRAIN_RESTARTS times. Time-skipping server, scripted activities.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignInput } from '../../workflows/definitions';
import { dualIpoCampaign } from '../../workflows/campaign';
import { MAX_DRAIN_RESTARTS } from '../../workflows/stages';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { fakeActivities, type Script } from '../helpers/fake-activities';

const QUEUE = 'wf-drain';
let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

function config(backend: 'command' | 'builtin' = 'command') {
  const stages = Object.fromEntries(
    ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, { backend, ...(backend === 'command' ? { command: ['true'] } : {}), taskQueue: QUEUE, maxAttempts: 1 }]),
  );
  return parseConfig({ campaign: { id: `d-${randomUUID().slice(0, 8)}`, maxRounds: 1 }, stages, temporal: { taskQueue: QUEUE } });
}

async function runCampaign(script: Script, cfg: ReturnType<typeof config>) {
  const { activities, recorded } = fakeActivities(script);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities });
  const input: CampaignInput = { config: cfg, configHash: 'test-hash', store: { root: 'file:///fake' } };
  const outcome = await worker.runUntil(env.client.workflow.execute(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] }).catch((err: unknown) => err as Error));
  return { outcome, recorded };
}

before(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
});

after(async () => {
  await env?.teardown();
});

describe('drained command stages', () => {
  test('a stage drained twice with maxAttempts 1 completes: each drain schedules it again', async () => {
    const { outcome, recorded } = await runCampaign({ totals: [70, 72], drains: (stage, round) => (stage === 'generatorTrain' && round === 1 ? 2 : 0) }, config());
    assert.ok(!(outcome instanceof Error), String(outcome));
    const calls = recorded.calls.filter((c) => c.activity === 'generatorTrain');
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => (c.input as { drainRestarts?: boolean }).drainRestarts === true));
  });

  test('restarts are bounded: a stage that drains forever fails after MAX_DRAIN_RESTARTS restarts', async () => {
    const { outcome, recorded } = await runCampaign({ totals: [70, 72], drains: (stage) => (stage === 'sample' ? 1000 : 0) }, config());
    assert.ok(outcome instanceof WorkflowFailedError, String(outcome));
    assert.equal(recorded.calls.filter((c) => c.activity === 'sample').length, MAX_DRAIN_RESTARTS + 1);
  });

  test('builtin stages are not marked: their drains stay ordinary failures', async () => {
    const { outcome, recorded } = await runCampaign({ totals: [70, 72], drains: (stage) => (stage === 'sample' ? 1 : 0) }, config('builtin'));
    assert.ok(outcome instanceof WorkflowFailedError, 'maxAttempts 1: the retryable drain used the only attempt');
    assert.ok(recorded.calls.every((c) => (c.input as { drainRestarts?: boolean }).drainRestarts === undefined));
  });
});
