// Sharded stages on the time-skipping server with scripted activities: hundreds of shards through a
// sliding window, retried shards redone alone, the fan-out in a child (the round's own history
// does not grow with the shard count), continue-as-new inside that child, and every history replays.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { parseConfig } from '../../config/load';
import { shardPlan } from '../../config/stage-params';
import { roundWorkflowId, shardWorkflowId, type CampaignInput, type StageRequest } from '../../workflows/definitions';
import { dualIpoCampaign } from '../../workflows/campaign';
import { shardedStage } from '../../workflows/sharded-stage';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { readStatus, type FullStatus } from '../../lib/campaign/client';
import { formatStatus } from '../../lib/cli/campaign-commands';
import { fakeActivities, type Script } from '../helpers/fake-activities';

const QUEUE = 'wf-shards';
const EventType = proto.temporal.api.enums.v1.EventType;
let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

function config(overrides: Record<string, any> = {}, sharding: Record<string, Record<string, number>> = {}) {
  const stages = Object.fromEntries(
    ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, { backend: 'command', command: ['true'], taskQueue: QUEUE, maxAttempts: 3, ...(sharding[s] ?? {}) }]),
  );
  return parseConfig({ ...overrides, campaign: { id: `s-${randomUUID().slice(0, 8)}`, ...(overrides.campaign ?? {}) }, stages, temporal: { taskQueue: QUEUE } });
}

async function withWorker<T>(script: Script, fn: () => Promise<T>) {
  const { activities, recorded } = fakeActivities(script);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities, maxConcurrentActivityTaskExecutions: 64 });
  return { value: await worker.runUntil(fn), recorded };
}

const activityTypes = (history: proto.temporal.api.history.v1.IHistory) =>
  (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);

/**
 * The most activities of `type` the workflow had scheduled and not yet closed, read from its history:
 * the window as the workflow held it, which the worker's own count (maxInFlight) can only see when
 * the machine is idle enough for the shards to overlap.
 */
function windowInHistory(history: proto.temporal.api.history.v1.IHistory, type: string) {
  const open = new Set<string>();
  let most = 0;
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === type) open.add(String(e.eventId));
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed) open.delete(String(closed.scheduledEventId));
    most = Math.max(most, open.size);
  }
  return most;
}

async function replay(ids: string[]) {
  const histories = await Promise.all(ids.map(async (workflowId) => ({ workflowId, history: await env.client.workflow.getHandle(workflowId).fetchHistory() })));
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  return failures;
}

before(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
});
after(async () => {
  await env?.teardown();
});

describe('sharded stages', () => {
  test('a round with 240 sample shards at maxParallel 4: the window holds, failed shards alone are redone, the manifest records the fan-out, histories replay', async () => {
    const cfg = config(
      { campaign: { maxRounds: 1 }, generation: { promptsPerRound: 240, evalPrompts: 30 } },
      { sample: { shardSize: 1, maxParallel: 4 }, label: { shardSize: 100, maxParallel: 2 }, evaluate: { shardSize: 7 } },
    );
    const failing = new Set([3, 117, 239]);
    const { value: result, recorded } = await withWorker({ totals: [70, 72], shardDelayMs: 2, failFirstAttempt: (stage, i) => stage === 'sample' && failing.has(i) }, async () => {
      const input: CampaignInput = { config: cfg, configHash: 'h', store: { root: 'file:///fake' } };
      const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
      return handle.result();
    });
    assert.equal(result.rounds, 1);
    const sample = recorded.shards['1/sample']!;
    assert.ok(sample.maxInFlight <= 4, `the window is never exceeded at the worker: ${sample.maxInFlight}`);
    const counts = new Map<number, number>();
    for (const i of sample.calls) counts.set(i, (counts.get(i) ?? 0) + 1);
    assert.equal(counts.size, 240);
    for (const [i, n] of counts) assert.equal(n, failing.has(i) ? 2 : 1, `shard ${i} ran ${n} times`);
    assert.equal(sample.merges, 1);
    // label ran twice (the accepted critic re-labels), each as its own fan-out of 3 shards, 2 at a time.
    for (const key of ['1/label', '1/label-relabel']) {
      assert.deepEqual([...recorded.shards[key]!.calls].sort((a, b) => a - b), [0, 1, 2], key);
      assert.ok(recorded.shards[key]!.maxInFlight <= 2, key);
    }
    // evaluate: 30 prompts by 7 = 5 shards, default maxParallel 8; the base evaluation (round 0) too.
    assert.deepEqual([...recorded.shards['1/evaluate']!.calls].sort(), [0, 1, 2, 3, 4]);
    assert.deepEqual([...recorded.shards['0/evaluate']!.calls].sort(), [0, 1, 2, 3, 4]);

    const manifest = recorded.manifests[0]!;
    const sampleTiming = manifest.stages.find((s: any) => s.stage === 'sample');
    assert.equal(sampleTiming.shards.count, 240);
    assert.equal(sampleTiming.shards.maxParallel, 4);
    assert.equal(sampleTiming.shards.retried, 3);
    assert.equal(sampleTiming.shards.attempts, 243);
    assert.deepEqual(sampleTiming.shards.hosts, { 'fake-0': 80, 'fake-1': 80, 'fake-2': 80 });
    assert.equal(manifest.stages.find((s: any) => s.stage === 'label' && s.step === 'relabel').shards.count, 3);
    assert.equal(manifest.stages.find((s: any) => s.stage === 'pceFilter').shards, undefined, 'unsharded stages record no fan-out');

    // The round schedules no sample, label or evaluate activity itself: they run in their children.
    const roundId = roundWorkflowId(cfg.campaign.id!, 1);
    const roundHistory = await env.client.workflow.getHandle(roundId).fetchHistory();
    const own = activityTypes(roundHistory);
    assert.ok(!own.includes('sample') && !own.includes('label') && !own.includes('evaluate'), own.join());
    assert.ok((roundHistory.events ?? []).length < 200, `round history ${(roundHistory.events ?? []).length} events`);
    const children = ['sample', 'label', 'label-relabel', 'evaluate'].map((l) => shardWorkflowId(cfg.campaign.id!, 1, l));
    // One scheduled activity per shard: the server retries a shard inside it (its attempt number).
    const sampleHistory = await env.client.workflow.getHandle(children[0]!).fetchHistory();
    assert.equal(activityTypes(sampleHistory).filter((t) => t === 'sample').length, 240);
    assert.equal(windowInHistory(sampleHistory, 'sample'), 4, 'the window is filled');
    assert.deepEqual(await replay([cfg.campaign.id!, roundId, ...children, shardWorkflowId(cfg.campaign.id!, 0, 'evaluate')]), []);
  });

  test('the fan-out continues-as-new when its history grows, and the window holds across runs', async () => {
    const cfg = config({ generation: { promptsPerRound: 300 } }, { sample: { shardSize: 1, maxParallel: 3 } });
    const plan = shardPlan(cfg, 'sample')!;
    const request: StageRequest = { campaignId: cfg.campaign.id!, round: 1, stage: 'sample', backend: 'command', command: ['true'], inputs: {}, store: { root: 'file:///fake' }, params: {} };
    const workflowId = `${cfg.campaign.id}/sample-shards`;
    const { value: { outcome, firstRun }, recorded } = await withWorker({ totals: [70] }, async () => {
      const handle = await env.client.workflow.start(shardedStage, { workflowId, taskQueue: QUEUE, args: [{ config: cfg, request, plan, historyLimit: 250 }] });
      return { outcome: await handle.result(), firstRun: handle.firstExecutionRunId };
    });
    const log = recorded.shards['1/sample']!;
    assert.deepEqual([...log.calls].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i), 'every shard once, none lost or repeated across runs');
    assert.ok(log.maxInFlight <= 3, `the window is never exceeded at the worker: ${log.maxInFlight}`);
    assert.equal(windowInHistory(await env.client.workflow.getHandle(workflowId, firstRun).fetchHistory(), 'sample'), 3, 'the window is filled');
    assert.equal(log.merges, 1);
    assert.equal(outcome.shards.count, 300);
    assert.equal(outcome.shards.attempts, 300);
    const last = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const started = last.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.continuedExecutionRunId, 'the last run was continued from an earlier one');
    assert.ok((last.events ?? []).length < 250 + 50, `a run's history stays near the limit: ${(last.events ?? []).length}`);
    assert.deepEqual(await replay([workflowId]), []);
  });

  test('a shard that keeps failing fails the stage after the shards in flight finish, without merging', async () => {
    const cfg = config({ generation: { promptsPerRound: 20 } }, { sample: { shardSize: 1, maxParallel: 4, maxAttempts: 1 } as any });
    const plan = shardPlan(cfg, 'sample')!;
    const request: StageRequest = { campaignId: cfg.campaign.id!, round: 1, stage: 'sample', backend: 'command', command: ['true'], inputs: {}, store: { root: 'file:///fake' }, params: {} };
    const { value: error, recorded } = await withWorker({ totals: [70], failFirstAttempt: (_s, i) => i === 5 }, async () => {
      const handle = await env.client.workflow.start(shardedStage, { workflowId: `${cfg.campaign.id}/fail`, taskQueue: QUEUE, args: [{ config: cfg, request, plan }] });
      return handle.result().then(() => undefined, (err: Error) => err);
    });
    assert.ok(error, 'the stage failed');
    assert.match(String((error as any).cause?.message ?? error.message), /1 of 20 shards failed/);
    const log = recorded.shards['1/sample']!;
    assert.equal(log.merges, 0);
    assert.equal(log.inFlight, 0);
    assert.ok(!log.calls.includes(19), 'no shard launched after the failure was seen');
  });

  test('status shows the running fan-out: shards done, running, failed, and the worker of each shard in flight', async () => {
    const cfg = config({ campaign: { maxRounds: 1 }, generation: { promptsPerRound: 60 } }, { sample: { shardSize: 1, maxParallel: 2 } });
    const seen: FullStatus[] = [];
    const showsFanOut = (s: FullStatus) => s.shards !== undefined && s.shards.done > 0 && s.shards.running > 0 && s.activities.some((a) => a.worker);
    // Shard 10 runs until the test has seen the fan-out in flight, however slow the machine's polls.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { worker, recorded } = await (async () => {
      const f = fakeActivities({ totals: [70, 72], shardDelayMs: 5, holdShard: (stage, i) => (stage === 'sample' && i === 10 ? held : undefined) });
      return { worker: await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities: f.activities, identity: 'status-test-worker' }), recorded: f.recorded };
    })();
    await worker.runUntil(async () => {
      const input: CampaignInput = { config: cfg, configHash: 'h', store: { root: 'file:///fake' } };
      const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
      try {
        for (let i = 0; i < 400 && !seen.some(showsFanOut); i++) {
          seen.push(await readStatus(env.client, cfg.campaign.id!));
          await new Promise((r) => setTimeout(r, 25));
        }
      } finally {
        release();
      }
      await handle.result();
    });
    const status = seen.find(showsFanOut);
    assert.ok(status, `no status showed the fan-out in flight (${seen.length} polls)`);
    assert.equal(status.shards!.stage, 'sample');
    assert.equal(status.shards!.shards, 60);
    assert.ok(status.shards!.running <= 2);
    const sampleActivity = status.activities.find((a) => a.activity === 'sample')!;
    assert.equal(sampleActivity.worker, 'status-test-worker');
    const text = formatStatus(status);
    assert.match(text, /shards of sample: \d+\/60 done, [12] running, 0 failed, 0 retried \(at most 2 in flight\)/);
    assert.match(text, /activity sample attempt 1 on status-test-worker/);
    assert.equal(recorded.shards['1/sample']!.merges, 1);
  });
});
