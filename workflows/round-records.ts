// What a round records besides running the paper's steps: the plan its status counts against, gate
// records, the lineage manifest, and where the time went. Pure functions of the round's state, so
// round.ts reads as the steps themselves.
import type { RoundManifest } from '../lib/artifacts/manifest';
import type { HumanTestRecord } from './human-test-definitions';
import type { ApprovalRecord, ArtifactRef, Evaluation, GateRecord, RollbackRecord, RoundInput, StageTiming, Versioned } from './definitions';

/** The steps a round will report progress through (status: stagesDone of stagesTotal). */
export function roundPlan(opts: { refine: boolean; staticPreferences: boolean }): string[] {
  return [
    ...(opts.staticPreferences ? [] : ['sample', 'label', 'pceFilter']),
    ...(opts.refine ? ['critic-refinement'] : []),
    'generatorTrain',
    'evaluate',
    'eval-gate',
  ];
}

/** Paper 3.3: an accepted critic re-labels the round's samples and rebuilds the preferences. */
export const RELABEL_STEPS = ['label-relabel', 'pceFilter-relabel'];

/** A gate's reason: the automatic verdict, and a person's decision when one answered in time. */
export function gateReason(verdict: string, approval: ApprovalRecord | undefined): string {
  return approval && !approval.timedOut ? `${verdict}; ${approval.decision} by ${approval.by}: ${approval.reason}` : verdict;
}

export function abnormalLossGate(round: number, reason: string | undefined, metrics: Record<string, number>): GateRecord {
  return { gate: 'eval', round, accepted: false, reason: `abnormal generator-train loss: ${reason}`, figures: { ...metrics } };
}

export function evalGateRecord(args: {
  round: number;
  accepted: boolean;
  reason: string;
  evaluation: Evaluation;
  champion: Evaluation;
  tolerance: number;
  standardError?: number;
  minStandardErrors: number;
  approval?: ApprovalRecord;
}): GateRecord {
  const { evaluation, standardError, minStandardErrors } = args;
  return {
    gate: 'eval',
    round: args.round,
    accepted: args.accepted,
    reason: args.reason,
    figures: {
      total: evaluation.total,
      quality: evaluation.quality,
      semantic: evaluation.semantic,
      championTotal: args.champion.total,
      tolerance: args.tolerance,
      ...(standardError !== undefined ? { gainStandardError: standardError } : {}),
      ...(standardError !== undefined || minStandardErrors > 0 ? { minStandardErrors } : {}),
    },
    ...(args.approval ? { approval: args.approval } : {}),
  };
}

/** Every stage the round ran (its own and the critic refinement's), in the order they started. */
export function allTimings(own: StageTiming[], refinement: StageTiming[] = []): StageTiming[] {
  return [...own, ...refinement].sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
}

/** Seconds per stage (a step counts apart, the refinement's stages as one), for the campaign's status. */
export function stageSeconds(own: StageTiming[], refinement: StageTiming[] = []): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const t of [...own, ...refinement]) {
    const key = t.stage === 'critic-refinement' ? t.stage : t.step ? `${t.stage}-${t.step}` : t.stage;
    seconds[key] = (seconds[key] ?? 0) + t.seconds;
  }
  return seconds;
}

export interface RoundRecordState {
  critic: Versioned;
  refined: boolean;
  criticAccepted?: boolean;
  outputs: Record<string, ArtifactRef>;
  gates: GateRecord[];
  rollbacks: RollbackRecord[];
  timings: StageTiming[];
  evaluation?: Evaluation;
  /** The human test set's refresh (humanTest.source champion). */
  humanTest?: HumanTestRecord;
  startedAt: string;
}

/** The round's lineage manifest (written whatever happens: accepted, rejected, failed or stopped). */
export function roundManifest(input: RoundInput, state: RoundRecordState, status: RoundManifest['status'], generatorAfter: Versioned, reason: string, finishedAt: string): RoundManifest {
  const { champion } = input;
  return {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: input.campaignId,
    round: input.round,
    status,
    reason,
    configHash: input.configHash,
    codeVersion: '',
    critic: {
      before: champion.critic.version,
      after: state.critic.version,
      refined: state.refined,
      ...(state.criticAccepted !== undefined ? { accepted: state.criticAccepted } : {}),
    },
    generator: { before: champion.generator.version, after: generatorAfter.version, accepted: status === 'accepted' },
    inputs: { generator: champion.generator.ref, critic: champion.critic.ref, ...input.datasets },
    outputs: state.outputs,
    gates: state.gates,
    rollbacks: state.rollbacks,
    stages: state.timings,
    evaluation: state.evaluation ?? null,
    championEvaluation: champion.evaluation,
    ...(state.humanTest ? { humanTest: state.humanTest } : {}),
    startedAt: state.startedAt,
    finishedAt,
  };
}
