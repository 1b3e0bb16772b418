// One Dual-IPO round (paper 3.3): sample -> label -> PCE-filter -> (SRPO critic refinement when due;
// an accepted critic re-labels the round's samples) -> generator-train -> evaluate -> eval gate. A failed gate or an abnormal training loss rolls the
// generator back to the champion; the round's lineage manifest is written whatever happens.
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
import { bookkeeping, requireMetric, requireOutput, stageRunner } from './stages';
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
  type Versioned,
} from './definitions';
import { CampaignIdKey, GateOutcomeKey, RoundKey, StageKey } from './search-attributes';

export async function dualIpoRound(input: RoundInput): Promise<RoundOutcome> {
  const { config, campaignId, round, champion } = input;
  const refine = input.refineCritic && config.campaign.criticRefinement !== 'never';
  let stagesTotal = (refine ? 7 : 6) - (input.staticPreferences ? 3 : 0);
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

  const writeManifest = (status: 'accepted' | 'rejected' | 'failed' | 'stopped', generatorAfter: Versioned, reason: string) =>
    CancellationScope.nonCancellable(() =>
      book.writeRoundManifest({
        store: input.store,
        manifest: {
          schema: 'dual-ipo/round-manifest@1',
          campaignId,
          round,
          status,
          reason,
          configHash: input.configHash,
          codeVersion: '',
          critic: {
            before: champion.critic.version,
            after: critic.version,
            refined: refinement !== undefined,
            ...(refinement ? { accepted: refinement.accepted } : {}),
          },
          generator: { before: champion.generator.version, after: generatorAfter.version, accepted: status === 'accepted' },
          inputs: { generator: champion.generator.ref, critic: champion.critic.ref, ...input.datasets },
          outputs,
          gates,
          rollbacks,
          stages: [...stages.timings, ...(refinement?.stages ?? [])].sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1)),
          evaluation: evaluation ?? null,
          championEvaluation: champion.evaluation,
          startedAt,
          finishedAt: new Date().toISOString(),
        },
      }),
    );

  const rollbackGenerator = async (reason: string) => {
    if (!candidate) return;
    rollbacks.push({ what: 'generator', from: candidate.version, to: champion.generator.version, reason });
    await CancellationScope.nonCancellable(() =>
      book.rollbackChampion({ store: input.store, campaignId, round, kind: 'generator', candidate, champion: champion.generator, reason }),
    );
  };

  try {
    const labelParams = {
      paths: config.critic.paths,
      beta: config.critic.beta,
      pceThreshold: config.critic.pceThreshold,
      usePce: config.critic.usePce,
      pairing: config.generation.pairing,
      minScoreGap: config.generation.minScoreGap,
      method: config.generator.method,
      // Only when set, so the label stage's params of existing campaigns are unchanged.
      ...(config.generation.rankBy && config.generation.rankBy !== 'critic' ? { rankBy: config.generation.rankBy } : {}),
    };
    if (input.staticPreferences) {
      // Fig. 3a's static baseline: the same preference data every round, nothing new sampled.
      outputs.preferences = input.staticPreferences;
    } else {
      const sampled = await stages.run('sample', { generator: champion.generator.ref }, {
        promptsPerRound: config.generation.promptsPerRound,
        candidatesPerPrompt: config.generation.candidatesPerPrompt,
      });
      outputs.samples = requireOutput(sampled, 'samples');
      const labelled = await stages.run('label', { critic: champion.critic.ref, samples: outputs.samples }, labelParams);
      outputs.labels = requireOutput(labelled, 'labels');
      const filtered = await stages.run('pceFilter', { labels: outputs.labels, critic: champion.critic.ref }, labelParams);
      outputs.preferences = requireOutput(filtered, 'preferences');
    }

    if (refine) {
      await enterStage('critic-refinement');
      refinementRunning = true;
      try {
        refinement = await executeChild(srpoCriticRefinement, {
          workflowId: refinementWorkflowId(campaignId, round),
          taskQueue: config.temporal.taskQueue,
          args: [{ campaignId, round, config, store: input.store, critic: champion.critic, datasets: input.datasets, filtered: outputs.preferences, samples: outputs.samples }],
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
          stagesTotal += 2;
          const relabelled = await stages.run('label', { critic: critic.ref, samples: outputs.samples }, labelParams, 'relabel');
          const refiltered = await stages.run('pceFilter', { labels: requireOutput(relabelled, 'labels'), critic: critic.ref }, labelParams, 'relabel');
          outputs.labelsBeforeCriticUpdate = outputs.labels;
          outputs.preferencesBeforeCriticUpdate = outputs.preferences;
          outputs.labels = requireOutput(relabelled, 'labels');
          outputs.preferences = requireOutput(refiltered, 'preferences');
        }
      }
    }

    const trained = await stages.run('generatorTrain', { generator: champion.generator.ref, preferences: outputs.preferences, realVideos: input.datasets.realVideos }, {
      method: config.generator.method,
      betaDpo: config.generator.betaDpo,
      betaKto: config.generator.betaKto,
      lambdaPreferred: config.generator.lambdaPreferred,
      lambdaReal: config.generator.lambdaReal,
      learningRate: config.generator.learningRate,
      steps: config.generator.steps,
    });
    candidate = { version: `g${round}`, ref: requireOutput(trained, 'generator') };
    outputs.generatorCandidate = candidate.ref;
    if (trained.outputs.losses) outputs.losses = trained.outputs.losses;

    const abnormal = abnormalTraining(trained.metrics, config.generator.divergence);
    let accepted: boolean;
    let reason: string;
    if (abnormal.abnormal) {
      accepted = false;
      reason = `abnormal generator-train loss: ${abnormal.reason}`;
      gates.push({ gate: 'eval', round, accepted: false, reason, figures: { ...trained.metrics } });
    } else {
      // The champion's scores (per-video parts) give the gain a paired standard error (gates.eval.minStandardErrors).
      const baseline = patched('eval-gate-paired-error') ? champion.evaluation.scores : undefined;
      const evaluated = await stages.run('evaluate', { generator: candidate.ref, evalPrompts: input.datasets.evalPrompts, ...(baseline ? { baseline } : {}) }, {});
      outputs.evaluation = requireOutput(evaluated, 'scores');
      evaluation = {
        total: requireMetric(evaluated, 'total'),
        quality: requireMetric(evaluated, 'quality'),
        semantic: requireMetric(evaluated, 'semantic'),
        scores: outputs.evaluation,
      };
      const standardError = baseline ? evaluated.metrics['gainStandardError'] : undefined;
      const minStandardErrors = config.gates.eval.minStandardErrors ?? 0;
      const verdict = evalGate({
        total: evaluation.total,
        championTotal: champion.evaluation.total,
        tolerance: config.gates.eval.tolerance,
        ...(standardError !== undefined ? { standardError } : {}),
        minStandardErrors,
      });
      await enterStage('eval-gate');
      const decision = await approvals.decide('eval', verdict.accepted, config.gates.eval.approval);
      accepted = decision.accepted;
      reason = decision.approval && !decision.approval.timedOut ? `${verdict.reason}; ${decision.approval.decision} by ${decision.approval.by}: ${decision.approval.reason}` : verdict.reason;
      gates.push({
        gate: 'eval',
        round,
        accepted,
        reason,
        figures: {
          total: evaluation.total,
          quality: evaluation.quality,
          semantic: evaluation.semantic,
          championTotal: champion.evaluation.total,
          tolerance: config.gates.eval.tolerance,
          ...(standardError !== undefined ? { gainStandardError: standardError } : {}),
          ...(standardError !== undefined || minStandardErrors > 0 ? { minStandardErrors } : {}),
        },
        ...(decision.approval ? { approval: decision.approval } : {}),
      });
    }

    let generator: Versioned;
    if (accepted) {
      generator = candidate;
      await book.promoteChampion({ store: input.store, campaignId, kind: 'generator', version: generator.version, ref: generator.ref, round, reason });
    } else {
      generator = champion.generator;
      await rollbackGenerator(reason);
    }
    upsertSearchAttributes([{ key: GateOutcomeKey, value: accepted ? 'accepted' : 'rejected' }]);
    stagesDone = stagesTotal;
    stage = 'done';
    const manifest = await writeManifest(accepted ? 'accepted' : 'rejected', generator, reason);
    const stageSeconds: Record<string, number> = {};
    for (const t of [...stages.timings, ...(refinement?.stages ?? [])]) {
      const key = t.stage === 'critic-refinement' ? t.stage : t.step ? `${t.stage}-${t.step}` : t.stage;
      stageSeconds[key] = (stageSeconds[key] ?? 0) + t.seconds;
    }
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
      stageSeconds,
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
