// One Dual-IPO round (paper 3.3): sample -> label -> PCE-filter -> (SRPO critic refinement when due;
// an accepted critic re-labels the round's samples) -> generator-train -> evaluate -> eval gate. A failed gate or an abnormal training loss rolls the
// generator back to the champion, and the critic too when it was updated this round (appendix C);
// the round's lineage manifest is written whatever happens.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { evalGate } from '../lib/core/gates';
import { abnormalTraining } from './loss-check';
import { srpoCriticRefinement } from './critic-refinement';
import { gateApprovals } from './gate-approval';
import { humanTestForRound } from './human-test';
import { bookkeeping, requireMetric, requireOutput, stageRunner } from './stages';
import { abnormalLossGate, allTimings, evalGateRecord, gateReason, RELABEL_STEPS, roundManifest, roundPlan, stageSeconds } from './round-records';
import {
  pauseSignal,
  refinementWorkflowId,
  resumeSignal,
  roundStatusQuery,
  stageSignal,
  type ArtifactRef,
  type CriticRefinementOutcome,
  type Evaluation,
  type GateRecord,
  type RollbackRecord,
  type RoundInput,
  type RoundOutcome,
  type StageTiming,
  type Versioned,
} from './definitions';
import { CampaignIdKey, GateOutcomeKey, RoundKey, StageKey } from './search-attributes';
import type { HumanTestStep } from './human-test-definitions';

export async function dualIpoRound(input: RoundInput): Promise<RoundOutcome> {
  const { config, campaignId, round, champion } = input;
  const refine = input.refineCritic && config.campaign.criticRefinement !== 'never';
  let stagesTotal = roundPlan({ refine, staticPreferences: input.staticPreferences !== undefined }).length;
  const startedAt = new Date().toISOString();
  let stage = 'starting';
  let stagesDone = 0;
  let paused = false;
  let refinementRunning = false;
  const approvals = gateApprovals();
  const parent = workflowInfo().parent;

  const forwardToRefinement = async (signal: typeof pauseSignal | typeof resumeSignal) => {
    if (refinementRunning) await getExternalWorkflowHandle(refinementWorkflowId(campaignId, round)).signal(signal);
  };
  setHandler(pauseSignal, async () => {
    paused = true;
    await forwardToRefinement(pauseSignal);
  });
  setHandler(resumeSignal, async () => {
    paused = false;
    await forwardToRefinement(resumeSignal);
  });
  setHandler(roundStatusQuery, () => ({ round, stage, stagesDone, stagesTotal, awaitingApproval: approvals.awaiting(), paused }));

  const enterStage = async (label: string) => {
    await condition(() => !paused);
    if (stage !== 'starting') stagesDone += 1;
    stage = label;
    upsertSearchAttributes([{ key: StageKey, value: label }]);
    if (parent) await getExternalWorkflowHandle(parent.workflowId).signal(stageSignal, { round, stage: label, stagesDone, stagesTotal });
  };
  const stages = stageRunner({ campaignId, round, config, store: input.store, beforeStage: enterStage });
  const book = bookkeeping(config);

  const gates: GateRecord[] = [];
  const rollbacks: RollbackRecord[] = [];
  const outputs: Record<string, ArtifactRef> = {};
  let critic: Versioned = champion.critic;
  let refinement: CriticRefinementOutcome | undefined;
  let candidate: Versioned | undefined;
  let evaluation: Evaluation | undefined;
  let human: HumanTestStep | undefined;
  const refinementTimings = (): StageTiming[] => refinement?.stages ?? [];

  const writeManifest = (status: 'accepted' | 'rejected' | 'failed' | 'stopped', generatorAfter: Versioned, reason: string) =>
    CancellationScope.nonCancellable(() =>
      book.writeRoundManifest({
        store: input.store,
        manifest: roundManifest(
          input,
          { critic, refined: refinement !== undefined, ...(refinement ? { criticAccepted: refinement.accepted } : {}), outputs, gates, rollbacks, timings: allTimings(stages.timings, refinementTimings()), ...(evaluation ? { evaluation } : {}), ...(human ? { humanTest: human.record } : {}), startedAt },
          status,
          generatorAfter,
          reason,
          new Date().toISOString(),
        ),
      }),
    );

  const rollbackGenerator = async (reason: string) => {
    if (!candidate) return;
    rollbacks.push({ what: 'generator', from: candidate.version, to: champion.generator.version, reason });
    await CancellationScope.nonCancellable(() =>
      book.rollbackChampion({ store: input.store, campaignId, round, kind: 'generator', candidate, champion: champion.generator, reason }),
    );
  };

  // Appendix C: a critic update the eval gate then rejects is discarded too; the next round labels
  // with the critic champion of before the update (campaign.criticOnEvalFailure: 'keep' keeps it).
  const rollbackCriticUpdate = async (reason: string) => {
    if (!refinement?.accepted || config.campaign.criticOnEvalFailure === 'keep' || !patched('critic-rollback-on-eval-failure')) return;
    const updated = critic;
    const why = `eval gate rejected the round after the critic update: ${reason}`;
    rollbacks.push({ what: 'critic', from: updated.version, to: champion.critic.version, reason: why });
    critic = champion.critic;
    await CancellationScope.nonCancellable(() =>
      book.rollbackChampion({ store: input.store, campaignId, round, kind: 'critic', candidate: updated, champion: champion.critic, reason: why }),
    );
  };

  try {
    // 1. Preference data (paper 3.3): sample, label with the champion critic, PCE-filter. Fig. 3a's
    // static baseline trains on the same data every round, nothing new sampled.
    if (input.staticPreferences) {
      outputs.preferences = input.staticPreferences;
    } else {
      outputs.samples = requireOutput(await stages.run('sample', { generator: champion.generator.ref }), 'samples');
      outputs.labels = requireOutput(await stages.run('label', { critic: champion.critic.ref, samples: outputs.samples }), 'labels');
      outputs.preferences = requireOutput(await stages.run('pceFilter', { labels: outputs.labels, critic: champion.critic.ref }), 'preferences');
    }

    // 2. SRPO critic refinement when due, behind the human-agreement gate (child workflow), validated on
    // the human test set refreshed from the champion's candidates when configured (human-test.ts).
    human = refine ? await humanTestForRound(input, { samples: outputs.samples, preferences: outputs.preferences, enterStage, addStage: () => void (stagesTotal += 1) }) : undefined;
    if (human) Object.assign(outputs, human.outputs);
    if (human?.gate) gates.push(human.gate);
    if (refine && !human?.gate) {
      await enterStage('critic-refinement');
      refinementRunning = true;
      try {
        refinement = await executeChild(srpoCriticRefinement, {
          workflowId: refinementWorkflowId(campaignId, round),
          taskQueue: config.temporal.taskQueue,
          args: [{ campaignId, round, config, store: input.store, critic: champion.critic, datasets: human?.current ? { ...input.datasets, humanTest: human.current.ref } : input.datasets, filtered: outputs.preferences, samples: outputs.samples }],
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          typedSearchAttributes: [
            { key: CampaignIdKey, value: campaignId },
            { key: RoundKey, value: round },
          ],
        });
      } finally {
        refinementRunning = false;
      }
      gates.push(refinement.gate);
      if (refinement.rollback) rollbacks.push(refinement.rollback);
      if (refinement.candidate) outputs.criticCandidate = refinement.candidate.ref;
      if (refinement.accepted) {
        critic = refinement.critic;
        await book.promoteChampion({ store: input.store, campaignId, kind: 'critic', version: critic.version, ref: critic.ref, round, reason: refinement.gate.reason });
        // Paper 3.3: the updated critic re-scores the round's videos and rebuilds the preference
        // data the generator trains on. Rounds recorded before this change trained on the old labels.
        if (patched('relabel-after-critic-update')) {
          stagesTotal += RELABEL_STEPS.length;
          const relabelled = await stages.run('label', { critic: critic.ref, samples: outputs.samples }, 'relabel');
          const refiltered = await stages.run('pceFilter', { labels: requireOutput(relabelled, 'labels'), critic: critic.ref }, 'relabel');
          outputs.labelsBeforeCriticUpdate = outputs.labels;
          outputs.preferencesBeforeCriticUpdate = outputs.preferences;
          outputs.labels = requireOutput(relabelled, 'labels');
          outputs.preferences = requireOutput(refiltered, 'preferences');
        }
      }
    }

    // 3. Diffusion-DPO / -KTO from the champion generator on the kept preferences.
    const trained = await stages.run('generatorTrain', { generator: champion.generator.ref, preferences: outputs.preferences, realVideos: input.datasets.realVideos });
    candidate = { version: `g${round}`, ref: requireOutput(trained, 'generator') };
    outputs.generatorCandidate = candidate.ref;
    if (trained.outputs.losses) outputs.losses = trained.outputs.losses;

    // 4. The eval gate: an abnormal loss rejects at once; otherwise evaluate and compare with the champion.
    const abnormal = abnormalTraining(trained.metrics, config.generator.divergence);
    let accepted: boolean;
    let reason: string;
    if (abnormal.abnormal) {
      const gate = abnormalLossGate(round, abnormal.reason, trained.metrics);
      accepted = false;
      reason = gate.reason;
      gates.push(gate);
    } else {
      // The champion's scores (per-video parts) give the gain a paired standard error (gates.eval.minStandardErrors).
      const baseline = patched('eval-gate-paired-error') ? champion.evaluation.scores : undefined;
      const evaluated = await stages.run('evaluate', { generator: candidate.ref, evalPrompts: input.datasets.evalPrompts, ...(baseline ? { baseline } : {}) });
      outputs.evaluation = requireOutput(evaluated, 'scores');
      evaluation = {
        total: requireMetric(evaluated, 'total'),
        quality: requireMetric(evaluated, 'quality'),
        semantic: requireMetric(evaluated, 'semantic'),
        scores: outputs.evaluation,
      };
      const standardError = baseline ? evaluated.metrics['gainStandardError'] : undefined;
      const minStandardErrors = config.gates.eval.minStandardErrors ?? 0;
      const tolerance = config.gates.eval.tolerance;
      const verdict = evalGate({ total: evaluation.total, championTotal: champion.evaluation.total, tolerance, ...(standardError !== undefined ? { standardError } : {}), minStandardErrors });
      await enterStage('eval-gate');
      const decision = await approvals.decide('eval', verdict.accepted, config.gates.eval.approval);
      accepted = decision.accepted;
      reason = gateReason(verdict.reason, decision.approval);
      gates.push(evalGateRecord({ round, accepted, reason, evaluation, champion: champion.evaluation, tolerance, ...(standardError !== undefined ? { standardError } : {}), minStandardErrors, ...(decision.approval ? { approval: decision.approval } : {}) }));
    }

    // 5. Promote the candidate, or roll the generator back to the champion (compensation).
    let generator: Versioned;
    if (accepted) {
      generator = candidate;
      await book.promoteChampion({ store: input.store, campaignId, kind: 'generator', version: generator.version, ref: generator.ref, round, reason });
    } else {
      generator = champion.generator;
      await rollbackGenerator(reason);
      await rollbackCriticUpdate(reason);
    }
    upsertSearchAttributes([{ key: GateOutcomeKey, value: accepted ? 'accepted' : 'rejected' }]);
    stagesDone = stagesTotal;
    stage = 'done';
    const manifest = await writeManifest(accepted ? 'accepted' : 'rejected', generator, reason);
    return {
      round,
      status: accepted ? 'accepted' : 'rejected',
      generator,
      critic,
      ...(evaluation ? { evaluation } : {}),
      ...(refinement ? { criticRefinement: { accepted: refinement.accepted, ...(refinement.agreement !== undefined ? { agreement: refinement.agreement } : {}) } } : {}),
      ...(outputs.preferences ? { preferences: outputs.preferences } : {}),
      gates,
      rollbacks,
      reason,
      manifest,
      stageSeconds: stageSeconds(stages.timings, refinementTimings()),
      ...(human?.current ? { humanTest: human.current } : {}),
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'round cancelled' : `round failed: ${(err as Error).message}`;
    await rollbackGenerator(reason);
    upsertSearchAttributes([{ key: GateOutcomeKey, value: cancelled ? 'stopped' : 'failed' }]);
    await writeManifest(cancelled ? 'stopped' : 'failed', champion.generator, reason);
    if (cancelled) throw err;
    throw ApplicationFailure.create({ message: reason, type: 'RoundFailed', nonRetryable: true, cause: err as Error });
  }
}
