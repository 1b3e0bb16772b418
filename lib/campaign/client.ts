// Client-side helpers for a campaign: start or attach, read its status (campaign + active round +
// the running activity's heartbeat progress), and find its artifact store for the audit.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { CampaignConfig } from '../../config/schema';
import { configDigest } from '../../config/load';
import type { StoreLocation } from '../stages/contract';
import { dualIpoCampaign } from '../../workflows/campaign';
import { CampaignIdKey } from '../../workflows/search-attributes';
import {
  refinementWorkflowId,
  roundStatusQuery,
  roundWorkflowId,
  shardStatusQuery,
  shardWorkflowId,
  statusQuery,
  type CampaignResult,
  type CampaignStatus,
  type RoundStatusView,
  type ShardStatusView,
} from '../../workflows/definitions';
import { humanLabelsStatusQuery, humanTestWorkflowId, type HumanLabelsStatusView } from '../../workflows/human-test-definitions';

export interface CampaignMemo {
  store: StoreLocation;
  configHash: string;
  name: string;
}

export function storeLocation(config: CampaignConfig): StoreLocation {
  return { root: config.artifacts.root, ...(config.artifacts.s3 ? { s3: config.artifacts.s3 } : {}) };
}

/** Starts the campaign, or attaches to the running one with the same id (a rerun resumes, never restarts). */
export async function startOrAttach(client: Client, config: CampaignConfig): Promise<{ handle: WorkflowHandle<typeof dualIpoCampaign>; started: boolean }> {
  const campaignId = config.campaign.id!;
  const store = storeLocation(config);
  const configHash = configDigest(config);
  try {
    const handle = await client.workflow.start(dualIpoCampaign, {
      workflowId: campaignId,
      taskQueue: config.temporal.taskQueue,
      args: [{ config, configHash, store }],
      memo: { store, configHash, name: config.campaign.name } satisfies CampaignMemo,
      typedSearchAttributes: [{ key: CampaignIdKey, value: campaignId }],
      // A failed or cancelled campaign may be started again (finished stages are reused); a
      // completed one is not re-run by accident.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { handle, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle<typeof dualIpoCampaign>(campaignId), started: false };
    }
    throw err;
  }
}

export interface ActivityProgress {
  activity: string;
  attempt: number;
  /** The worker that holds (or last held) it. */
  worker?: string;
  done?: number;
  total?: number;
  message?: string;
}

export interface FullStatus {
  campaignId: string;
  workflowStatus: string;
  status?: CampaignStatus;
  round?: RoundStatusView;
  /** The round's wait for human labels (humanTest.source champion): what, since when, where the export is. */
  humanLabels?: HumanLabelsStatusView;
  /** The running sharded stage's fan-out: shards done, running, failed. */
  shards?: ShardStatusView;
  activities: ActivityProgress[];
  result?: CampaignResult;
  failure?: string;
  memo?: CampaignMemo;
}

async function pendingActivities(client: Client, workflowId: string): Promise<ActivityProgress[]> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    const pending = description.raw.pendingActivities ?? [];
    const converter = client.options.loadedDataConverter.payloadConverter;
    return pending.map((a) => {
      const payload = a.heartbeatDetails?.payloads?.[0];
      const details = payload ? (converter.fromPayload(payload) as { done?: number; total?: number; message?: string }) : undefined;
      return {
        activity: a.activityType?.name ?? '?',
        attempt: a.attempt ?? 1,
        ...(a.lastWorkerIdentity ? { worker: a.lastWorkerIdentity } : {}),
        ...(details?.done !== undefined ? { done: details.done } : {}),
        ...(details?.total !== undefined ? { total: details.total } : {}),
        ...(details?.message ? { message: details.message } : {}),
      };
    });
  } catch {
    return [];
  }
}

/** A sharded stage's fan-out child, when `label` (e.g. label-relabel) runs as one: its progress and its shards in flight. */
async function shardProgress(client: Client, campaignId: string, round: number, label: string): Promise<{ view: ShardStatusView; activities: ActivityProgress[] } | undefined> {
  const id = shardWorkflowId(campaignId, round, label.replace(/^critic:/, ''));
  try {
    const view = await client.workflow.getHandle(id).query(shardStatusQuery);
    return { view, activities: await pendingActivities(client, id) };
  } catch {
    return undefined; // not sharded, not started yet, or finished
  }
}

export async function readStatus(client: Client, campaignId: string): Promise<FullStatus> {
  const handle = client.workflow.getHandle<typeof dualIpoCampaign>(campaignId);
  const description = await handle.describe();
  const memo = description.memo as unknown as CampaignMemo | undefined;
  const full: FullStatus = { campaignId, workflowStatus: description.status.name, activities: [], ...(memo ? { memo } : {}) };
  if (description.status.name === 'RUNNING') {
    full.status = await handle.query(statusQuery);
    const round = full.status.round;
    if (full.status.phase === 'bootstrapping') {
      full.activities = await pendingActivities(client, campaignId);
      const sharded = await shardProgress(client, campaignId, 0, full.status.stage);
      if (sharded) [full.shards, full.activities] = [sharded.view, [...full.activities, ...sharded.activities]];
    } else if (round > 0 && full.status.stage !== 'between-rounds') {
      const roundId = roundWorkflowId(campaignId, round);
      try {
        full.round = await client.workflow.getHandle(roundId).query(roundStatusQuery);
      } catch {
        // the round may have just finished
      }
      if (full.round?.stage === 'human-test') {
        const view = await client.workflow.getHandle(humanTestWorkflowId(campaignId, round)).query(humanLabelsStatusQuery).catch(() => undefined);
        if (view) full.humanLabels = view;
      }
      const refining = full.round?.stage === 'critic-refinement';
      full.activities = [...(await pendingActivities(client, roundId)), ...(refining ? await pendingActivities(client, refinementWorkflowId(campaignId, round)) : [])];
      const stage = refining ? await client.workflow.getHandle(refinementWorkflowId(campaignId, round)).query(roundStatusQuery).then((r) => r.stage, () => undefined) : full.round?.stage;
      const sharded = stage ? await shardProgress(client, campaignId, round, stage) : undefined;
      if (sharded) [full.shards, full.activities] = [sharded.view, [...full.activities, ...sharded.activities]];
    }
  } else if (description.status.name === 'COMPLETED') {
    full.result = (await handle.result()) as CampaignResult;
  } else {
    try {
      await handle.result();
    } catch (err) {
      full.failure = describeFailure(err);
    }
  }
  return full;
}

/** Unwraps Temporal's failure chain into one readable line: the outermost message and the root cause. */
export function describeFailure(err: unknown): string {
  const messages: string[] = [];
  let current: unknown = err;
  while (current && messages.length < 8) {
    const message = (current as Error).message;
    if (message && !messages.includes(message)) messages.push(message);
    current = (current as { cause?: unknown }).cause;
  }
  return messages.join(' <- ');
}
