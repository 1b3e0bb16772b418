// The human side of the critic gate (appendix C: the human test set is "constructed from the current
// T2V model"): when the champion generator has changed since the test set was last refreshed, this
// round's candidates are exported for annotation (Label Studio tasks, JSONL, CSV), the workflow waits
// durably for the labels (the `submitHumanLabels` update carries a labels file in the artifact store;
// the reference world's simulated panel answers through the same update path), validates them
// (a bad file is refused whole, naming its rows) and builds the refreshed test set the critic gate
// validates on. No labels before `humanTest.timeout`: `onTimeout` keeps the previous set or fails the gate.
import { ActivityFailure, ApplicationFailure, ChildWorkflowCancellationType, ParentClosePolicy, allHandlersFinished, condition, executeChild, log, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import type { ArtifactRef, RoundInput } from './definitions';
import {
  humanLabelsStatusQuery,
  humanTestWorkflowId,
  submitHumanLabelsUpdate,
  type HumanLabelsReceipt,
  type HumanLabelsStatusView,
  type HumanLabelsSubmission,
  type HumanTestInput,
  type HumanTestOutcome,
  type HumanTestStep,
} from './human-test-definitions';
import { CampaignIdKey, RoundKey } from './search-attributes';

const INVALID = 'HumanLabelsInvalid';

function refusal(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === INVALID ? cause.message : undefined;
}

export async function humanTestRefresh(input: HumanTestInput): Promise<HumanTestOutcome> {
  const cfg = input.config.humanTest!;
  const acts = proxyActivities<Activities>({
    taskQueue: cfg.taskQueue ?? input.config.stages.validate.taskQueue,
    startToCloseTimeout: '2h',
    retry: { maximumAttempts: 5, initialInterval: '1s', maximumInterval: '1m', nonRetryableErrorTypes: [INVALID] },
  });
  const view: HumanLabelsStatusView = { round: input.round, phase: 'exporting', annotators: cfg.annotators, generator: input.generator.version, onTimeout: cfg.onTimeout, reminders: 0, refused: [] };
  const queue: { id: number; submission: HumanLabelsSubmission; simulated?: boolean }[] = [];
  const answers = new Map<number, { receipt?: HumanLabelsReceipt; error?: string }>();
  let submissions = 0;
  let accepting = false;

  setHandler(humanLabelsStatusQuery, () => view);
  setHandler(
    submitHumanLabelsUpdate,
    async (submission): Promise<HumanLabelsReceipt> => {
      const id = submissions++;
      queue.push({ id, submission });
      await condition(() => answers.has(id));
      const answer = answers.get(id)!;
      if (answer.error !== undefined) throw ApplicationFailure.create({ message: answer.error, type: INVALID, nonRetryable: true });
      return answer.receipt!;
    },
    {
      validator: (submission) => {
        if (!accepting) throw new Error(`round ${input.round} is not waiting for human labels (${view.phase})`);
        if (typeof submission?.labels?.uri !== 'string' || typeof submission.labels.sha256 !== 'string') throw new Error('a submission carries the labels file as an artifact reference (uri, sha256, size)');
        if (!submission.by?.trim()) throw new Error('a submission needs the submitter\'s name (by)');
      },
    },
  );

  const exported = await acts.exportHumanTestPairs({
    store: input.store,
    campaignId: input.campaignId,
    round: input.round,
    samples: input.samples,
    ...(input.preferences ? { preferences: input.preferences } : {}),
    generator: input.generator,
    pairs: cfg.pairs,
    seed: String(input.config.campaign.seed),
    ...(cfg.videoBaseUrl ? { videoBaseUrl: cfg.videoBaseUrl } : {}),
  });
  view.export = { manifest: exported.export, folder: exported.folder, pairs: exported.pairs };
  if (cfg.annotators === 'simulated') {
    // The reference world's panel answers like a person would: a labels file, submitted to the same queue.
    view.phase = 'simulating';
    const evidence = input.config.stages.bootstrap.params['humanEvidence'] as 'graded' | 'clipped' | undefined;
    const labels = await acts.simulatedHumanLabels({ store: input.store, export: exported.export, seed: String(input.config.campaign.seed), ...(evidence ? { evidence } : {}) });
    queue.push({ id: submissions++, submission: { labels, by: 'simulated panel' }, simulated: true });
  }

  const timeoutMs = msToNumber(cfg.timeout as `${number}${string}`);
  const remindMs = msToNumber(cfg.reminderEvery as `${number}${string}`);
  const started = Date.now();
  view.phase = 'awaiting-labels';
  view.waitingSince = new Date(started).toISOString();
  view.deadline = new Date(started + timeoutMs).toISOString();
  accepting = true;
  let outcome: HumanTestOutcome | undefined;
  while (!outcome) {
    const left = started + timeoutMs - Date.now();
    if (left <= 0) break;
    if (!(await condition(() => queue.length > 0, Math.min(left, remindMs)))) {
      if (Date.now() - started >= timeoutMs) break;
      view.reminders += 1;
      log.warn(`round ${input.round} is waiting for human labels of ${exported.pairs} pairs (export ${exported.folder}) since ${view.waitingSince}: dual-ipo labels submit ${input.campaignId} --file LABELS`);
      continue;
    }
    const { id, submission, simulated } = queue.shift()!;
    view.phase = 'validating';
    try {
      const r = await acts.ingestHumanTestLabels({ store: input.store, export: exported.export, labels: submission.labels, base: input.base, fixedShare: cfg.fixedShare });
      answers.set(id, { receipt: { humanTest: r.humanTest, pairs: r.fixedPairs + r.refreshedPairs, fixedPairs: r.fixedPairs } });
      outcome = {
        status: 'refreshed',
        export: exported.export,
        pairs: exported.pairs,
        humanTest: r.humanTest,
        labels: submission.labels,
        by: submission.by,
        fixedPairs: r.fixedPairs,
        refreshedPairs: r.refreshedPairs,
        refused: view.refused.length,
        reason: `${r.refreshedPairs} pairs of ${input.generator.version}'s candidates labelled by ${submission.by}, ${r.fixedPairs} fixed pairs kept`,
      };
    } catch (err) {
      const error = refusal(err);
      // The panel's own file refused is a bug, not something a person can fix by resubmitting.
      if (error === undefined || simulated) throw err;
      answers.set(id, { error });
      view.refused = [...view.refused, { by: submission.by, at: new Date().toISOString(), error: error.slice(0, 2000) }].slice(-3);
      view.phase = 'awaiting-labels';
    }
  }
  accepting = false;
  for (const { id } of queue.splice(0)) answers.set(id, { error: `round ${input.round} is no longer waiting for human labels` });
  await condition(allHandlersFinished);
  view.phase = outcome ? 'done' : 'timed-out';
  return outcome ?? { status: 'timed-out', export: exported.export, pairs: exported.pairs, refused: view.refused.length, reason: `no valid human labels within ${cfg.timeout} (humanTest.onTimeout: ${cfg.onTimeout})` };
}

/**
 * The round's one call (before its critic refinement): the test set the gate validates on this
 * round. Only configs with humanTest.source "champion" reach the patch marker, so histories recorded
 * without it replay unchanged.
 */
export async function humanTestForRound(input: RoundInput, round: { samples?: ArtifactRef; preferences?: ArtifactRef; enterStage: (label: string) => Promise<void>; addStage: () => void }): Promise<HumanTestStep | undefined> {
  const cfg = input.config.humanTest;
  if (cfg?.source !== 'champion' || !round.samples) return undefined;
  if (!patched('human-test-from-champion')) return undefined;
  const generator = input.champion.generator.version;
  const current = input.humanTest;
  if (current?.generator === generator) return { current, outputs: {}, record: { source: 'champion', generator, refreshed: false, humanTest: current.ref, reason: `the test set of round ${current.round} is already drawn from ${generator}` } };
  round.addStage();
  await round.enterStage('human-test');
  const outcome = await executeChild(humanTestRefresh, {
    workflowId: humanTestWorkflowId(input.campaignId, input.round),
    taskQueue: input.config.temporal.taskQueue,
    args: [{ campaignId: input.campaignId, round: input.round, config: input.config, store: input.store, generator: input.champion.generator, samples: round.samples, ...(round.preferences ? { preferences: round.preferences } : {}), base: input.datasets.humanTest }],
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: [
      { key: CampaignIdKey, value: input.campaignId },
      { key: RoundKey, value: input.round },
    ],
  });
  const outputs: Record<string, ArtifactRef> = { humanTestExport: outcome.export };
  const common = { source: 'champion' as const, generator, refused: outcome.refused, reason: outcome.reason };
  if (outcome.status === 'refreshed' && outcome.humanTest && outcome.labels) {
    outputs.humanLabels = outcome.labels;
    outputs.humanTest = outcome.humanTest;
    return {
      current: { ref: outcome.humanTest, generator, round: input.round },
      outputs,
      record: { ...common, refreshed: true, humanTest: outcome.humanTest, ...(outcome.by ? { by: outcome.by } : {}), ...(outcome.fixedPairs !== undefined ? { fixedPairs: outcome.fixedPairs } : {}), ...(outcome.refreshedPairs !== undefined ? { refreshedPairs: outcome.refreshedPairs } : {}) },
    };
  }
  const timedOut = { ...common, refreshed: false, timedOut: true, onTimeout: cfg.onTimeout };
  if (cfg.onTimeout === 'fail-gate') {
    return { outputs, record: timedOut, gate: { gate: 'critic', round: input.round, accepted: false, reason: `critic gate failed: ${outcome.reason}`, figures: { threshold: input.config.gates.critic.threshold } } };
  }
  const previous = current?.ref ?? input.datasets.humanTest;
  return { ...(current ? { current } : {}), outputs, record: { ...timedOut, humanTest: previous } };
}
