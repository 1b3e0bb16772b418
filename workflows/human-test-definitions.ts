// Messages and shapes of the human test set's refresh (workflows/human-test.ts), shared with its
// clients: the CLI's `labels submit` and `status`, and the tests.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ArtifactRef, CampaignConfig, GateRecord, StoreLocation, Versioned } from './definitions';
import { roundWorkflowId } from './definitions';

export interface HumanTestInput {
  campaignId: string;
  round: number;
  config: CampaignConfig;
  store: StoreLocation;
  /** The champion generator whose candidates `samples` are. */
  generator: Versioned;
  samples: ArtifactRef;
  /** The round's preference pairs: their candidates are not shown (the critic trains on them). */
  preferences?: ArtifactRef;
  /** The bootstrap's test set: its fixed share stays in every refreshed set. */
  base: ArtifactRef;
}

export interface HumanTestOutcome {
  status: 'refreshed' | 'timed-out';
  export: ArtifactRef;
  pairs: number;
  humanTest?: ArtifactRef;
  labels?: ArtifactRef;
  by?: string;
  fixedPairs?: number;
  refreshedPairs?: number;
  /** Submissions refused by validation before one was ingested. */
  refused: number;
  reason: string;
}

/** What a round records of its human test set (round manifest `humanTest`). */
export interface HumanTestRecord {
  source: 'champion';
  /** The champion generator the refreshed pairs come from. */
  generator: string;
  refreshed: boolean;
  timedOut?: boolean;
  onTimeout?: 'keep-previous' | 'fail-gate';
  /** The test set the critic gate used. */
  humanTest?: ArtifactRef;
  by?: string;
  fixedPairs?: number;
  refreshedPairs?: number;
  refused?: number;
  reason: string;
}

/** The test set a campaign's critic gate currently uses, and the champion its new pairs came from. */
export interface CurrentHumanTest {
  ref: ArtifactRef;
  generator: string;
  round: number;
}

export interface HumanLabelsSubmission {
  /** The labels file, already in the campaign's artifact store (`dual-ipo labels submit` puts it there). */
  labels: ArtifactRef;
  by: string;
}

export interface HumanLabelsReceipt {
  humanTest: ArtifactRef;
  pairs: number;
  fixedPairs: number;
}

export interface HumanLabelsStatusView {
  round: number;
  phase: 'exporting' | 'simulating' | 'awaiting-labels' | 'validating' | 'done' | 'timed-out';
  annotators: 'simulated' | 'external';
  generator: string;
  /** The export: its manifest, folder (Label Studio tasks and config, pairs.jsonl, pairs.csv, videos/) and pair count. */
  export?: { manifest: ArtifactRef; folder: string; pairs: number };
  waitingSince?: string;
  deadline?: string;
  onTimeout: 'keep-previous' | 'fail-gate';
  reminders: number;
  /** The last refused submissions: who, when, why. */
  refused: Array<{ by: string; at: string; error: string }>;
}

export interface HumanTestStep {
  /** The test set the critic gate uses this round. */
  current?: CurrentHumanTest;
  /** A failed critic gate (no labels in time, onTimeout fail-gate): no critic update this round. */
  gate?: GateRecord;
  outputs: Record<string, ArtifactRef>;
  record: HumanTestRecord;
}

export const submitHumanLabelsUpdate = defineUpdate<HumanLabelsReceipt, [HumanLabelsSubmission]>('submitHumanLabels');
export const humanLabelsStatusQuery = defineQuery<HumanLabelsStatusView>('humanLabelsStatus');
export const humanTestWorkflowId = (campaignId: string, round: number) => `${roundWorkflowId(campaignId, round)}/human-test`;
