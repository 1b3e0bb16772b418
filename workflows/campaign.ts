// A Dual-IPO campaign: bootstrap (world data, base models, base evaluation), then one child
// workflow per round until the stopping rule fires (max rounds, saturation, too many rejected
// rounds in a row, or a stop request). History stays bounded: rounds live in their own
// histories and the campaign continues-as-new when its own grows.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { saturationStop } from '../lib/core/gates';
import { dualIpoRound } from './round';
import { bookkeeping, requireMetric, requireOutput, stageRunner } from './stages';
import {
  pauseSignal,
  resumeSignal,
  roundWorkflowId,
  stageSignal,
  statusQuery,
  stopSignal,
  type CampaignInput,
  type CampaignResult,
  type CampaignState,
  type CampaignStatus,
  type RoundOutcome,
} from './definitions';
import { CampaignIdKey, ChampionCriticKey, ChampionGeneratorKey, GateOutcomeKey, RoundKey, StageKey } from './search-attributes';

const RECENT_ROUNDS_KEPT = 5;
const BOOTSTRAP_OUTPUTS = ['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'] as const;

function initialState(campaignId: string): CampaignState {
  return {
    campaignId,
    bootstrapped: false,
    lastRound: 0,
    acceptedTotals: [],
    consecutiveRejected: 0,
    refineCriticNext: false,
    recentRounds: [],
    lastGates: [],
    stopRequested: false,
    paused: false,
    runs: 0,
  };
}

/** The stopping rule, evaluated before each round. */
export function stopReason(state: CampaignState, input: CampaignInput): string | undefined {
  const { campaign } = input.config;
  if (state.stopRequested) return 'stop requested';
  if (state.lastRound >= campaign.maxRounds) return `reached maxRounds (${campaign.maxRounds})`;
  if (state.consecutiveRejected >= campaign.maxConsecutiveRejected) {
    return `${state.consecutiveRejected} consecutive rejected rounds (maxConsecutiveRejected ${campaign.maxConsecutiveRejected})`;
  }
  const saturated = saturationStop(state.acceptedTotals, campaign.saturation);
  if (saturated.stop) return `saturation: ${saturated.reason}`;
  return undefined;
}

export async function dualIpoCampaign(input: CampaignInput): Promise<CampaignResult> {
  const { config } = input;
  const campaignId = config.campaign.id!;
  const state: CampaignState = input.state ?? initialState(campaignId);
  state.runs += 1;
  let phase: CampaignStatus['phase'] = state.bootstrapped ? 'running' : 'bootstrapping';
  let current = { round: state.lastRound, stage: state.bootstrapped ? 'between-rounds' : 'bootstrap', stagesDone: 0, stagesTotal: 0 };
  let finalReason: string | undefined;
  let roundRunning = false;

  const forward = async (signal: typeof pauseSignal | typeof resumeSignal) => {
    if (roundRunning) await getExternalWorkflowHandle(roundWorkflowId(campaignId, state.lastRound + 1)).signal(signal);
  };
  setHandler(pauseSignal, async () => {
    state.paused = true;
    await forward(pauseSignal);
  });
  setHandler(resumeSignal, async () => {
    state.paused = false;
    await forward(resumeSignal);
  });
  setHandler(stopSignal, () => {
    state.stopRequested = true;
  });
  setHandler(stageSignal, (update) => {
    if (update.round === state.lastRound + 1) current = update;
  });
  setHandler(statusQuery, (): CampaignStatus => ({
    campaignId,
    phase: finalReason ? 'finished' : state.paused ? 'paused' : state.stopRequested ? 'stopping' : phase,
    round: current.round,
    stage: current.stage,
    stagesDone: current.stagesDone,
    stagesTotal: current.stagesTotal,
    championCritic: state.champion?.critic.version,
    championGenerator: state.champion?.generator.version,
    championTotal: state.champion?.evaluation.total,
    lastGates: state.lastGates,
    recentRounds: state.recentRounds,
    consecutiveRejected: state.consecutiveRejected,
    refineCriticNext: state.refineCriticNext,
    stopRequested: state.stopRequested,
    paused: state.paused,
    ...(finalReason ? { stopReason: finalReason } : {}),
  }));

  const book = bookkeeping(config);
  upsertSearchAttributes([{ key: CampaignIdKey, value: campaignId }]);

  if (!state.bootstrapped) {
    const stages = stageRunner({
      campaignId,
      round: 0,
      config,
      store: input.store,
      beforeStage: async (label) => {
        await condition(() => !state.paused);
        current = { round: 0, stage: label, stagesDone: current.stage === 'bootstrap' ? 0 : 1, stagesTotal: 2 };
        upsertSearchAttributes([{ key: StageKey, value: label }]);
      },
    });
    const boot = await stages.run('bootstrap', {});
    const refs = Object.fromEntries(BOOTSTRAP_OUTPUTS.map((name) => [name, requireOutput(boot, name)]));
    const base = await stages.run('evaluate', { generator: refs.generator, evalPrompts: refs.evalPrompts });
    const evaluation = { total: requireMetric(base, 'total'), quality: requireMetric(base, 'quality'), semantic: requireMetric(base, 'semantic'), scores: requireOutput(base, 'scores') };
    state.champion = { generator: { version: 'g0', ref: refs.generator }, critic: { version: 'c0', ref: refs.critic }, evaluation };
    state.datasets = { humanSeed: refs.humanSeed, humanTest: refs.humanTest, realVideos: refs.realVideos, evalPrompts: refs.evalPrompts };
    state.acceptedTotals = [evaluation.total];
    state.refineCriticNext = config.campaign.criticRefinement === 'every-round';
    state.refineReason = state.refineCriticNext ? 'scheduled every round' : undefined;
    state.bootstrapped = true;
    await book.promoteChampion({ store: input.store, campaignId, kind: 'generator', version: 'g0', ref: refs.generator, round: 0, reason: 'base model' });
    await book.promoteChampion({ store: input.store, campaignId, kind: 'critic', version: 'c0', ref: refs.critic, round: 0, reason: 'warm-started on the human seed set' });
    phase = 'running';
  }

  let roundsThisRun = 0;
  for (;;) {
    await condition(() => !state.paused || state.stopRequested);
    finalReason = stopReason(state, input);
    if (finalReason) break;
    if (roundsThisRun >= config.campaign.roundsPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof dualIpoCampaign>({ ...input, state });
    }

    const round = state.lastRound + 1;
    const champion = state.champion!;
    current = { round, stage: 'starting', stagesDone: 0, stagesTotal: 0 };
    upsertSearchAttributes([{ key: RoundKey, value: round }]);
    roundRunning = true;
    let outcome: RoundOutcome;
    try {
      outcome = await executeChild(dualIpoRound, {
        workflowId: roundWorkflowId(campaignId, round),
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            campaignId,
            round,
            config,
            configHash: input.configHash,
            store: input.store,
            champion,
            datasets: state.datasets!,
            refineCritic: state.refineCriticNext,
            ...(state.refineReason ? { refineReason: state.refineReason } : {}),
            ...(state.staticPreferences ? { staticPreferences: state.staticPreferences } : {}),
            ...(state.humanTest ? { humanTest: state.humanTest } : {}),
          },
        ],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: CampaignIdKey, value: campaignId },
          { key: RoundKey, value: round },
        ],
      });
    } catch (err) {
      if (isCancellation(err) && patched('campaign-cancelled-not-failed')) {
        // `stop --now`: the round has run its compensation; the campaign ends cancelled, with a record.
        finalReason = `cancelled during round ${round}`;
        await CancellationScope.nonCancellable(() =>
          book.writeCampaignRecord({ store: input.store, campaignId, record: { campaignId, stopReason: finalReason, state, config, configHash: input.configHash } }),
        );
        upsertSearchAttributes([{ key: StageKey, value: 'cancelled' }]);
        throw err;
      }
      finalReason = `round ${round} failed: ${(err as Error).message}`;
      throw ApplicationFailure.create({ message: finalReason, type: 'CampaignFailed', nonRetryable: true, cause: err as Error });
    } finally {
      roundRunning = false;
    }

    roundsThisRun += 1;
    state.lastRound = round;
    if (config.generation.staticPreferences && !state.staticPreferences && outcome.preferences) state.staticPreferences = outcome.preferences;
    if (outcome.humanTest) state.humanTest = outcome.humanTest;
    state.champion = {
      generator: outcome.generator,
      critic: outcome.critic,
      evaluation: outcome.status === 'accepted' && outcome.evaluation ? outcome.evaluation : champion.evaluation,
    };
    if (outcome.status === 'accepted') {
      state.consecutiveRejected = 0;
      if (outcome.evaluation) state.acceptedTotals.push(outcome.evaluation.total);
      state.refineCriticNext = config.campaign.criticRefinement === 'every-round';
      state.refineReason = state.refineCriticNext ? 'scheduled every round' : undefined;
    } else {
      // Paper 3.3: degradation triggers a critic update for the next round.
      state.consecutiveRejected += 1;
      state.refineCriticNext = config.campaign.criticRefinement !== 'never';
      state.refineReason = `round ${round} rejected: ${outcome.reason}`;
    }
    state.lastGates = outcome.gates;
    state.recentRounds = [
      ...state.recentRounds,
      {
        round,
        status: outcome.status,
        ...(outcome.evaluation ? { total: outcome.evaluation.total } : {}),
        generator: outcome.generator.version,
        critic: outcome.critic.version,
        reason: outcome.reason,
        manifest: outcome.manifest,
      },
    ].slice(-RECENT_ROUNDS_KEPT);
    upsertSearchAttributes([
      { key: ChampionGeneratorKey, value: state.champion.generator.version },
      { key: ChampionCriticKey, value: state.champion.critic.version },
      { key: GateOutcomeKey, value: outcome.status },
      { key: StageKey, value: 'between-rounds' },
    ]);
    current = { round, stage: 'between-rounds', stagesDone: 0, stagesTotal: 0 };
  }

  await book.writeCampaignRecord({
    store: input.store,
    campaignId,
    record: { campaignId, stopReason: finalReason, state, config, configHash: input.configHash },
  });
  upsertSearchAttributes([{ key: StageKey, value: 'finished' }]);
  const champion = state.champion!;
  return {
    campaignId,
    rounds: state.lastRound,
    stopReason: finalReason,
    champion: { generator: champion.generator.version, critic: champion.critic.version, evaluation: champion.evaluation },
    acceptedTotals: state.acceptedTotals,
  };
}
