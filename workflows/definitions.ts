// Messages and shapes shared by the workflows and their clients (the CLI, tests).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ArtifactRef } from '../lib/artifacts/types';
import type { CampaignConfig } from '../config/schema';
import type { StageRequest, StageResult, StoreLocation } from '../lib/stages/contract';
import type { ShardSummary } from '../lib/artifacts/manifest';
import type { ShardPlan } from '../config/stage-params';
import type { CurrentHumanTest } from './human-test-definitions';

export type { ArtifactRef, CampaignConfig, ShardPlan, ShardSummary, StageRequest, StageResult, StoreLocation };

export interface Versioned {
  version: string;
  ref: ArtifactRef;
}

export interface Evaluation {
  total: number;
  quality: number;
  semantic: number;
  /** Its scores.json (per-video parts): the next candidate's eval gate pairs with it. */
  scores?: ArtifactRef;
}

export interface Datasets {
  humanSeed: ArtifactRef;
  humanTest: ArtifactRef;
  realVideos: ArtifactRef;
  evalPrompts: ArtifactRef;
}

export type GateName = 'critic' | 'eval';
export type Decision = 'accept' | 'reject';

export interface ApprovalRecord {
  by: string;
  decision: Decision;
  reason: string;
  at: string;
  timedOut: boolean;
}

export interface GateRecord {
  gate: GateName;
  round: number;
  accepted: boolean;
  reason: string;
  figures: Record<string, number>;
  approval?: ApprovalRecord;
}

export interface RollbackRecord {
  what: 'critic' | 'generator';
  from: string;
  to: string;
  reason: string;
}

export interface StageTiming {
  stage: string;
  step?: string;
  seconds: number;
  reused: boolean;
  startedAt: string;
  metrics: Record<string, number>;
  /** A sharded stage's fan-out: shards, attempts, workers. */
  shards?: ShardSummary;
}

/** Which attempt finished each shard and where; carried across continue-as-new, compact on purpose. */
export interface ShardLedger {
  /** Per shard: the attempt that finished it (0: not finished yet). */
  attempts: number[];
  /** Per shard: index into `hosts` of the worker that finished it (-1: not finished yet). */
  hostOf: number[];
  hosts: string[];
  reused: number;
}

export interface ShardedStageInput {
  config: CampaignConfig;
  /** The stage's request; each shard gets it with its `shard` range. */
  request: StageRequest;
  plan: ShardPlan;
  /** Continue-as-new once the history has this many events (default SHARD_HISTORY_EVENTS). */
  historyLimit?: number;
  /** Progress carried over by continue-as-new. */
  state?: { next: number; ledger: ShardLedger; runs: number; startedAt: string };
}

export interface ShardedStageOutcome {
  result: StageResult;
  shards: ShardSummary;
}

export interface MergeShardsInput {
  request: StageRequest;
  plan: ShardPlan;
  ledger: ShardLedger;
}

export interface ShardStatusView {
  stage: string;
  shards: number;
  done: number;
  running: number;
  failed: number;
  retried: number;
  maxParallel: number;
  /** Runs of the fan-out so far (continue-as-new starts a new one). */
  runs: number;
  merging: boolean;
}

export interface CriticRefinementInput {
  campaignId: string;
  round: number;
  config: CampaignConfig;
  store: StoreLocation;
  critic: Versioned;
  datasets: Datasets;
  /** This round's PCE-filtered pseudo-labels; when absent the child labels `samples` itself. */
  filtered?: ArtifactRef;
  samples?: ArtifactRef;
}

export interface CriticRefinementOutcome {
  accepted: boolean;
  critic: Versioned;
  candidate?: Versioned;
  agreement?: number;
  gate: GateRecord;
  rollback?: RollbackRecord;
  stages: StageTiming[];
}

export interface RoundInput {
  campaignId: string;
  round: number;
  config: CampaignConfig;
  configHash: string;
  store: StoreLocation;
  champion: { generator: Versioned; critic: Versioned; evaluation: Evaluation };
  datasets: Datasets;
  refineCritic: boolean;
  /** Why this round's critic refinement is due (schedule, degradation in round n-1, ...). */
  refineReason?: string;
  /** Static-data ablation (Fig. 3a): train on these preferences instead of sampling and labelling. */
  staticPreferences?: ArtifactRef;
  /** The human test set refreshed from a champion's candidates (humanTest.source champion), if any yet. */
  humanTest?: CurrentHumanTest;
}

export type RoundStatus = 'accepted' | 'rejected';

export interface RoundOutcome {
  round: number;
  status: RoundStatus;
  generator: Versioned;
  critic: Versioned;
  evaluation?: Evaluation;
  criticRefinement?: { accepted: boolean; agreement?: number };
  /** The preference data the generator trained on this round. */
  preferences?: ArtifactRef;
  gates: GateRecord[];
  rollbacks: RollbackRecord[];
  reason: string;
  manifest: ArtifactRef;
  stageSeconds: Record<string, number>;
  /** The test set the critic gate used, when it was refreshed from a champion's candidates. */
  humanTest?: CurrentHumanTest;
}

export interface RoundSummary {
  round: number;
  status: RoundStatus;
  total?: number;
  generator: string;
  critic: string;
  reason: string;
  manifest: ArtifactRef;
}

export interface CampaignState {
  campaignId: string;
  bootstrapped: boolean;
  lastRound: number;
  champion?: { generator: Versioned; critic: Versioned; evaluation: Evaluation };
  datasets?: Datasets;
  /** Totals of the base model and of each accepted round, for the saturation rule. */
  acceptedTotals: number[];
  consecutiveRejected: number;
  refineCriticNext: boolean;
  refineReason?: string;
  /** Static-data ablation: round 1's preferences, reused by every later round. */
  staticPreferences?: ArtifactRef;
  /** The refreshed human test set (humanTest.source champion); datasets.humanTest stays the bootstrap's. */
  humanTest?: CurrentHumanTest;
  /** The last few rounds only: the full audit lives in the manifests. */
  recentRounds: RoundSummary[];
  lastGates: GateRecord[];
  stopRequested: boolean;
  paused: boolean;
  runs: number;
}

export interface CampaignInput {
  config: CampaignConfig;
  configHash: string;
  store: StoreLocation;
  state?: CampaignState;
}

export interface CampaignResult {
  campaignId: string;
  rounds: number;
  stopReason: string;
  champion: { generator: string; critic: string; evaluation: Evaluation };
  acceptedTotals: number[];
}

export interface CampaignStatus {
  campaignId: string;
  phase: 'bootstrapping' | 'running' | 'paused' | 'stopping' | 'finished';
  round: number;
  stage: string;
  stagesDone: number;
  stagesTotal: number;
  championCritic?: string;
  championGenerator?: string;
  championTotal?: number;
  lastGates: GateRecord[];
  recentRounds: RoundSummary[];
  consecutiveRejected: number;
  refineCriticNext: boolean;
  stopRequested: boolean;
  paused: boolean;
  stopReason?: string;
}

export interface RoundStatusView {
  round: number;
  stage: string;
  stagesDone: number;
  stagesTotal: number;
  awaitingApproval?: GateName;
  paused: boolean;
}

export interface ApproveRequest {
  gate: GateName;
  decision: Decision;
  by: string;
  reason: string;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Graceful: the campaign stops after the current round. Cancel the workflow to stop at once. */
export const stopSignal = defineSignal<[{ reason?: string }]>('stop');
/** A round tells its campaign which stage it is in, so one status query answers everything. */
export const stageSignal = defineSignal<[{ round: number; stage: string; stagesDone: number; stagesTotal: number }]>('stage');
export const statusQuery = defineQuery<CampaignStatus>('status');
export const roundStatusQuery = defineQuery<RoundStatusView>('roundStatus');
export const shardStatusQuery = defineQuery<ShardStatusView>('shardStatus');
export const approveUpdate = defineUpdate<ApprovalRecord, [ApproveRequest]>('approve');

export const roundWorkflowId = (campaignId: string, round: number) => `${campaignId}/round-${String(round).padStart(4, '0')}`;
export const refinementWorkflowId = (campaignId: string, round: number) => `${roundWorkflowId(campaignId, round)}/critic-refinement`;
/** The fan-out child of a sharded stage (`label` is the stage and step, e.g. label-relabel). */
export const shardWorkflowId = (campaignId: string, round: number, label: string) => `${roundWorkflowId(campaignId, round)}/${label}-shards`;
