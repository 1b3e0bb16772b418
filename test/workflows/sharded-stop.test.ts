// Stopping a campaign in the middle of a sharded stage, on the real dev server (the time-skipping
// server mishandles a cancel request for an activity in flight: it answers ACTIVITY_UNKNOWN and the
// workflow's task fails on replay). No shard is launched after the stop, and the fan-out ends only
// when the shards in flight have ended: a stopped campaign leaves no job running on a worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { parseConfig } from '../../config/load';
import { roundWorkflowId, shardWorkflowId, type CampaignInput } from '../../workflows/definitions';
import { dualIpoCampaign } from '../../workflows/campaign';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { createLocalEnv } from '../helpers/temporal';
import { readStatus } from '../../lib/campaign/client';
import { fakeActivities } from '../helpers/fake-activities';

const QUEUE = 'wf-shards-stop';
const EventType = proto.temporal.api.enums.v1.EventType;
let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

before(async () => {
  env = await createLocalEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
});
after(async () => {
  await env?.teardown();
});

test('stopping the campaign mid-fan-out launches no more shards and ends only when none is running', async () => {
  const stages = Object.fromEntries(
    ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, { backend: 'command', command: ['true'], taskQueue: QUEUE, maxAttempts: 3, ...(s === 'sample' ? { shardSize: 1, maxParallel: 2 } : {}) }]),
  );
  const cfg = parseConfig({ campaign: { id: `stop-${randomUUID().slice(0, 8)}`, maxRounds: 1 }, generation: { promptsPerRound: 80 }, stages, temporal: { taskQueue: QUEUE } });
  // Shards slow enough that the stop finds two of them in flight; they do not heartbeat, so they
  // never hear of the cancellation and run to their end.
  const { activities, recorded } = fakeActivities({ totals: [70, 72], shardDelayMs: 400 });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: QUEUE, workflowBundle, activities });
  const outcome = await worker.runUntil(async () => {
    const input: CampaignInput = { config: cfg, configHash: 'h', store: { root: 'file:///fake' } };
    const handle = await env.client.workflow.start(dualIpoCampaign, { workflowId: cfg.campaign.id!, taskQueue: QUEUE, args: [input] });
    for (let i = 0; i < 600; i++) {
      const s = await readStatus(env.client, cfg.campaign.id!);
      if (s.shards && s.shards.done >= 2 && s.shards.running > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const log = () => recorded.shards['1/sample']!;
    const inFlightAtStop = log().inFlight;
    const launchedAtStop = log().calls.length;
    await handle.cancel();
    const settled = await handle.result().then(() => 'completed', () => 'cancelled');
    return { settled, inFlightAtStop, launchedAtStop, inFlightAtEnd: log().inFlight, launchedAtEnd: log().calls.length };
  });
  assert.equal(outcome.settled, 'cancelled');
  assert.ok(outcome.inFlightAtStop > 0, 'the stop came while shards were running');
  assert.equal(outcome.inFlightAtEnd, 0, 'no shard still running when the campaign ended');
  // A shard the window launched in the instant before the stop reached the workflow may start; no more.
  assert.ok(outcome.launchedAtEnd <= outcome.launchedAtStop + 2, `${outcome.launchedAtEnd} shards launched by the end, ${outcome.launchedAtStop} at the stop`);
  const log = recorded.shards['1/sample']!;
  assert.equal(log.merges, 0);
  assert.equal(recorded.manifests.at(-1)?.status, 'stopped');

  // The fan-out recorded the cancel requests and the version marker of the wait, and every history replays.
  const fanOut = shardWorkflowId(cfg.campaign.id!, 1, 'sample');
  const events = (await env.client.workflow.getHandle(fanOut).fetchHistory()).events ?? [];
  assert.ok(events.some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED), 'cancel requests for the shards in flight');
  assert.ok(events.some((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED), 'the shard-cancel-waits marker');
  const ids = [cfg.campaign.id!, roundWorkflowId(cfg.campaign.id!, 1), fanOut];
  const histories = await Promise.all(ids.map(async (workflowId) => ({ workflowId, history: await env.client.workflow.getHandle(workflowId).fetchHistory() })));
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  assert.deepEqual(failures, []);
});
