// `dual-ipo run --config FILE`: validate the config, make sure Temporal is there, start (or
// re-attach to) the campaign, run the workers in this process unless told not to, and show progress.
import { loadConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { openHost } from '../campaign/host';
import { readStatus, startOrAttach, describeFailure, type FullStatus } from '../campaign/client';
import { followResult, isConnectionError } from '../campaign/follow';
import { installWorkerLog } from '../campaign/worker-log';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, requireString, targetOverrides, type Options } from './args';
import { progressView, type ProgressView } from './progress';
import type { CampaignResult } from '../../workflows/definitions';
import type { TemporalTarget } from '../temporal/target';

export const RUN_OPTIONS = { config: { type: 'string' }, 'no-worker': { type: 'boolean' }, detach: { type: 'boolean' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const RUN_HELP = `Usage: dual-ipo run --config FILE [--no-worker] [--detach] [--address HOST:PORT] [--namespace NS]

Starts the Dual-IPO campaign described by FILE (YAML or JSON; see config/examples/), or attaches
to it when a campaign with the same id is already running: running the command again resumes,
it never starts over. Without TEMPORAL_ADDRESS a local Temporal dev server is started (or reused).
While following, an outage of the Temporal server is waited out (the campaign's state is on the
server): "Temporal unreachable since ..., retrying" is printed and the follower re-attaches.

Options:
  --config FILE         campaign config (validated before anything starts)
  --no-worker           do not run workers in this process (use \`dual-ipo worker\` elsewhere)
  --detach              start the campaign and return at once; follow it with \`dual-ipo status ID\`
${CONNECT_HELP}
  -h, --help            show this help`;

export function renderStatus(view: ProgressView, status: FullStatus): void {
  const s = status.status;
  if (!s) return;
  const activity = status.activities[0];
  const stageLabel = s.phase === 'bootstrapping' ? `bootstrap: ${s.stage}` : `round ${s.round}: ${status.round?.stage ?? s.stage}`;
  const detail = [
    activity?.total ? `${activity.done ?? 0}/${activity.total}${activity.message ? ` ${activity.message}` : ''}` : '',
    s.championGenerator ? `champion ${s.championGenerator}/${s.championCritic} total ${s.championTotal?.toFixed(2)}` : '',
    status.round?.awaitingApproval ? `awaiting approval at the ${status.round.awaitingApproval} gate` : '',
    s.paused ? 'PAUSED' : '',
  ]
    .filter(Boolean)
    .join(' | ');
  if (activity?.total) view.update(stageLabel, activity.done ?? 0, activity.total, detail);
  else view.update(stageLabel, status.round?.stagesDone ?? s.stagesDone, status.round?.stagesTotal ?? s.stagesTotal, detail);
}

export function summariseResult(result: CampaignResult): string {
  const totals = result.acceptedTotals.map((t) => t.toFixed(2)).join(' -> ');
  return [
    `campaign ${result.campaignId} finished after ${result.rounds} round(s): ${result.stopReason}`,
    `champion generator ${result.champion.generator}, critic ${result.champion.critic}`,
    `evaluation Total ${result.champion.evaluation.total.toFixed(2)} (Quality ${result.champion.evaluation.quality.toFixed(2)}, Semantic ${result.champion.evaluation.semantic.toFixed(2)})`,
    `accepted Totals: ${totals}`,
  ].join('\n');
}

export interface FollowOptions {
  config: CampaignConfig;
  runWorkers: boolean;
  detach: boolean;
  out?: NodeJS.WriteStream;
  /** --address / --namespace */
  temporal?: { address?: string; namespace?: string };
}

/** The campaign's page in the Temporal Web UI, when the UI's address is known (dev server, TEMPORAL_UI_URL). */
export function workflowLink(target: Pick<TemporalTarget, 'uiUrl' | 'namespace'>, workflowId: string): string | undefined {
  return target.uiUrl ? `${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}

/**
 * One line when Temporal stops answering and one when it is back: a server restart is not the
 * campaign's end (its state is on the server), so the follower says it is waiting instead of quitting.
 */
export function outageReporter(print: (text: string) => void, now: () => Date = () => new Date()) {
  let since: Date | undefined;
  return {
    unreachable(err: unknown) {
      if (since) return;
      since = now();
      print(`Temporal unreachable since ${since.toISOString()} (${describeFailure(err).split('\n')[0]}), retrying; the campaign keeps running on the server`);
    },
    reachable() {
      if (!since) return;
      print(`Temporal reachable again after ${Math.round((now().getTime() - since.getTime()) / 1000)} s; following the campaign`);
      since = undefined;
    },
    get since() {
      return since;
    },
  };
}

/** Shared by `run` and `quickstart`. Resolves with the campaign result. */
export async function startAndFollow(options: FollowOptions): Promise<CampaignResult | undefined> {
  const { config } = options;
  const runWorkers = options.runWorkers && !options.detach;
  // The worker runtime's log must be installed before any worker connects.
  const workerLog = runWorkers ? installWorkerLog('run') : undefined;
  const host = await openHost({ configs: [config], runWorkers, name: 'run', ...(options.temporal ? { temporal: options.temporal } : {}) });
  const { client, target } = host;
  const view = progressView(options.out);
  const campaignId = config.campaign.id!;
  let started: boolean;
  try {
    ({ started } = await startOrAttach(client, config));
  } catch (err) {
    // The workers are already polling: without this the process would never exit.
    await host.stop();
    throw err;
  }
  view.line(`${started ? 'started' : 'resumed'} campaign ${campaignId} on ${target.address} (namespace ${target.namespace})`);
  const link = workflowLink(target, campaignId);
  if (link) view.line(`Temporal Web UI: ${link}`);
  if (options.detach) {
    await host.stop();
    return undefined;
  }
  if (workerLog) view.line(`worker log: ${workerLog}`);
  if (host.stageWorker) view.line(`stage worker: pid ${host.stageWorker.child.pid}, log ${host.stageWorker.logFile}`);

  const onInterrupt = () => {
    view.line(`interrupted: the campaign keeps its state on the server; run the same command again to resume ${campaignId}`);
    void host.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);

  const outage = outageReporter((text) => view.line(text));
  const ticker = setInterval(() => {
    readStatus(client, campaignId)
      .then((status) => {
        outage.reachable();
        renderStatus(view, status);
      })
      .catch((err: unknown) => {
        if (isConnectionError(err)) outage.unreachable(err);
      });
  }, 1000);
  try {
    const result = await followResult(client, campaignId, { unreachable: (_since, err) => outage.unreachable(err), back: () => outage.reachable() });
    view.stop();
    return result;
  } catch (err) {
    view.stop();
    throw new Error(`campaign ${campaignId} did not finish: ${describeFailure(err)}`);
  } finally {
    clearInterval(ticker);
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await host.stop();
  }
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, RUN_OPTIONS, RUN_HELP);
  if (help) {
    console.log(RUN_HELP);
    return 0;
  }
  const config = loadConfig(requireString(values, 'config', RUN_HELP));
  const result = await startAndFollow({ config, runWorkers: values['no-worker'] !== true, detach: values.detach === true, temporal: targetOverrides(values) });
  if (result) console.log(summariseResult(result));
  else console.log(`campaign ${config.campaign.id} is running; follow it with: dual-ipo status ${config.campaign.id}`);
  return 0;
}
