// SRPO critic refinement (paper 3.2, appendix C): pseudo-label with the current critic, PCE-filter,
// train on seed human data mixed with the filtered pseudo-labels, validate on the held-out human
// set, and accept only above the human-agreement threshold. A failed gate discards the candidate.
import { ApplicationFailure, CancellationScope, condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { criticGate } from '../lib/core/gates';
import { gateApprovals } from './gate-approval';
import { bookkeeping, requireMetric, requireOutput, stageRunner } from './stages';
import {
  pauseSignal,
  resumeSignal,
  roundStatusQuery,
  type CriticRefinementInput,
  type CriticRefinementOutcome,
  type GateRecord,
  type RollbackRecord,
  type Versioned,
} from './definitions';
import { StageKey } from './search-attributes';

const STAGES_TOTAL = 5;

export async function srpoCriticRefinement(input: CriticRefinementInput): Promise<CriticRefinementOutcome> {
  const { config, campaignId, round } = input;
  let stage = 'starting';
  let stagesDone = 0;
  let paused = false;
  const approvals = gateApprovals();
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(roundStatusQuery, () => ({ round, stage, stagesDone, stagesTotal: STAGES_TOTAL, awaitingApproval: approvals.awaiting(), paused }));

  const stages = stageRunner({
    campaignId,
    round,
    config,
    store: input.store,
    beforeStage: async (label) => {
      await condition(() => !paused);
      stagesDone += stage === 'starting' ? 0 : 1;
      stage = `critic:${label}`;
      upsertSearchAttributes([{ key: StageKey, value: stage }]);
    },
  });
  const book = bookkeeping(config);

  let filtered = input.filtered;
  if (!filtered) {
    if (!input.samples) throw ApplicationFailure.nonRetryable('critic refinement needs either filtered pseudo-labels or samples to label', 'InvalidInput');
    const labels = await stages.run('label', { critic: input.critic.ref, samples: input.samples }, 'pseudo');
    const pce = await stages.run('pceFilter', { labels: requireOutput(labels, 'labels'), critic: input.critic.ref }, 'pseudo');
    filtered = requireOutput(pce, 'preferences');
  }

  const trained = await stages.run('criticTrain', { critic: input.critic.ref, pseudo: filtered, humanSeed: input.datasets.humanSeed });
  const candidate: Versioned = { version: `c${round}`, ref: requireOutput(trained, 'critic') };

  // From here on the candidate exists; whatever happens (gate failure, error, cancellation) the
  // compensation keeps the champion and records the discarded candidate.
  let rollback: RollbackRecord | undefined;
  const discardCandidate = async (reason: string) => {
    rollback = { what: 'critic', from: candidate.version, to: input.critic.version, reason };
    await CancellationScope.nonCancellable(() =>
      book.rollbackChampion({ store: input.store, campaignId, round, kind: 'critic', candidate, champion: input.critic, reason }),
    );
  };

  try {
    const validation = await stages.run('validate', { critic: candidate.ref, humanTest: input.datasets.humanTest });
    const agreement = requireMetric(validation, 'agreementPairwise');
    const verdict = criticGate({ agreement, threshold: config.gates.critic.threshold });
    stage = 'critic:gate';
    const decision = await approvals.decide('critic', verdict.accepted, config.gates.critic.approval);
    const figures: Record<string, number> = { agreementPairwise: agreement, threshold: config.gates.critic.threshold };
    if (typeof validation.metrics.agreementPointwise === 'number') figures.agreementPointwise = validation.metrics.agreementPointwise;
    const gate: GateRecord = {
      gate: 'critic',
      round,
      accepted: decision.accepted,
      reason: decision.approval && !decision.approval.timedOut ? `${verdict.reason}; ${decision.approval.decision} by ${decision.approval.by}: ${decision.approval.reason}` : verdict.reason,
      figures,
      ...(decision.approval ? { approval: decision.approval } : {}),
    };
    if (!decision.accepted) await discardCandidate(gate.reason);
    stagesDone = STAGES_TOTAL;
    stage = 'critic:done';
    return {
      accepted: decision.accepted,
      critic: decision.accepted ? candidate : input.critic,
      candidate,
      agreement,
      gate,
      ...(rollback ? { rollback } : {}),
      stages: stages.timings,
    };
  } catch (err) {
    await discardCandidate(`refinement did not finish: ${(err as Error).message}`);
    throw err;
  }
}
