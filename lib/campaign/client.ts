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
  statusQuery,
  type CampaignResult,
  type CampaignStatus,
  type RoundStatusView,
} from '../../workflows/definitions';

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
  done?: number;
  total?: number;
  message?: string;
}

export interface FullStatus {
  campaignId: string;
  workflowStatus: string;
  status?: CampaignStatus;
  round?: RoundStatusView;
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
        ...(details?.done !== undefined ? { done: details.done } : {}),
        ...(details?.total !== undefined ? { total: details.total } : {}),
        ...(details?.message ? { message: details.message } : {}),
      };
    });
  } catch {
    return [];
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
    } else if (round > 0 && full.status.stage !== 'between-rounds') {
      const roundId = roundWorkflowId(campaignId, round);
      try {
        full.round = await client.workflow.getHandle(roundId).query(roundStatusQuery);
      } catch {
        // the round may have just finished
      }
      full.activities = [
        ...(await pendingActivities(client, roundId)),
        ...(full.round?.stage === 'critic-refinement' ? await pendingActivities(client, refinementWorkflowId(campaignId, round)) : []),
      ];
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
