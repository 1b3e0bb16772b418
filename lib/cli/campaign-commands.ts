// `status`, `history`, `pause`, `resume`, `stop` and `approve`: talking to a campaign by its id.
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectClient, resolveTarget } from '../temporal/connection';
import { openStore, type ArtifactStore } from '../artifacts';
import { readManifest, type RoundManifest } from '../artifacts/manifest';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, requirePositional, requireString, targetOverrides, UsageError, type Options } from './args';
import { describeFailure, readStatus, type FullStatus } from '../campaign/client';
import { isConnectionError } from '../campaign/follow';
import {
  approveUpdate,
  pauseSignal,
  refinementWorkflowId,
  resumeSignal,
  roundWorkflowId,
  stopSignal,
  type GateName,
} from '../../workflows/definitions';
import type { HumanLabelsStatusView } from '../../workflows/human-test-definitions';
import { outageReporter, summariseResult, workflowLink } from './run-command';

function connect(values: Record<string, unknown>) {
  const target = resolveTarget(targetOverrides(values));
  return { target, client: connectClient(target) };
}

async function client(values: Record<string, unknown>) {
  return connect(values).client;
}

/**
 * `status` exit codes: a script or a CI job can tell how a campaign ended without parsing text.
 * 1 stays "the command itself failed" (e.g. no such campaign, no server) and 2 a usage error.
 */
export const STATUS_EXIT_CODES: Record<string, number> = { RUNNING: 0, COMPLETED: 0, CONTINUED_AS_NEW: 0, FAILED: 3, CANCELLED: 4, TERMINATED: 5, TIMED_OUT: 6 };

export function exitCodeFor(workflowStatus: string): number {
  return STATUS_EXIT_CODES[workflowStatus] ?? 1;
}

const EXIT_HELP = `Exit status: 0 running or completed, 3 failed, 4 cancelled, 5 terminated, 6 timed out;
1 when the status cannot be read (no such campaign, Temporal unreachable), 2 on a usage error.`;

export const STATUS_OPTIONS = { json: { type: 'boolean' }, watch: { type: 'boolean' }, interval: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const STATUS_HELP = `Usage: dual-ipo status ID [--json] [--watch [--interval SECONDS]] [--address HOST:PORT] [--namespace NS]

Shows a campaign: phase, round, stage and progress of the running activity, champion critic and
generator versions, the last gate decisions, the recent rounds, and its page in the Temporal Web UI
(the local dev server's, or TEMPORAL_UI_URL's for a cluster).

Options:
  --json                print the status as JSON
  --watch               refresh until the campaign ends (rides out Temporal outages), then exit
                        with the campaign's exit status
  --interval SECONDS    refresh period of --watch (default 2)
${CONNECT_HELP}
  -h, --help            show this help

${EXIT_HELP}`;

/** What a round waiting for human labels needs: since when, until when, where the export is, how to answer. */
export function humanLabelsReminder(campaignId: string, h: HumanLabelsStatusView): string[] {
  if (h.phase !== 'awaiting-labels') return [`  human test set of round ${h.round}: ${h.phase}${h.export ? ` (${h.export.pairs} pairs of ${h.generator}'s candidates, ${h.export.folder})` : ''}`];
  const lines = [
    `  AWAITING HUMAN LABELS since ${h.waitingSince} (until ${h.deadline}, then ${h.onTimeout}${h.reminders ? `; ${h.reminders} reminder${h.reminders > 1 ? 's' : ''} logged` : ''}): ${h.export?.pairs ?? '?'} pairs of ${h.generator}'s candidates`,
    `    export: ${h.export?.folder ?? '?'} (label-studio-tasks.json + label-studio-config.xml, pairs.jsonl, pairs.csv, videos/)`,
    `    submit: dual-ipo labels submit ${campaignId} --file LABELS --by NAME`,
  ];
  for (const r of h.refused) lines.push(`    refused (${r.by}, ${r.at}): ${r.error.split('\n').slice(0, 3).join(' ')}`);
  return lines;
}

export function formatStatus(s: FullStatus, link?: string): string {
  const lines = [`campaign ${s.campaignId}: ${s.workflowStatus}`];
  if (link) lines.push(`Web UI: ${link}`);
  if (s.status) {
    const st = s.status;
    lines.push(`phase ${st.phase}, round ${st.round}, stage ${s.round?.stage ?? st.stage} (${s.round?.stagesDone ?? st.stagesDone}/${s.round?.stagesTotal ?? st.stagesTotal})`);
    if (s.shards) {
      const f = s.shards;
      lines.push(`  shards of ${f.stage}: ${f.done}/${f.shards} done, ${f.running} running, ${f.failed} failed, ${f.retried} retried (at most ${f.maxParallel} in flight${f.runs > 1 ? `, run ${f.runs}` : ''})${f.merging ? ', merging' : ''}`);
    }
    for (const a of s.activities) {
      lines.push(`  activity ${a.activity} attempt ${a.attempt}${a.worker ? ` on ${a.worker}` : ''}${a.total ? `: ${a.done ?? 0}/${a.total}` : ''}${a.message ? ` ${a.message}` : ''}`);
    }
    if (s.humanLabels) lines.push(...humanLabelsReminder(s.campaignId, s.humanLabels));
    if (s.round?.awaitingApproval) lines.push(`  awaiting approval at the ${s.round.awaitingApproval} gate: dual-ipo approve ${s.campaignId} --gate ${s.round.awaitingApproval} --decision accept|reject --by NAME --reason TEXT`);
    lines.push(`champion generator ${st.championGenerator ?? '-'}, critic ${st.championCritic ?? '-'}, Total ${st.championTotal?.toFixed(2) ?? '-'}`);
    if (st.paused) lines.push('PAUSED: dual-ipo resume ' + s.campaignId);
    if (st.stopRequested) lines.push('stop requested: the campaign stops after the current round');
    for (const g of st.lastGates) lines.push(`last ${g.gate} gate (round ${g.round}): ${g.accepted ? 'accepted' : 'rejected'}: ${g.reason}`);
    for (const r of st.recentRounds) lines.push(`round ${r.round}: ${r.status}${r.total !== undefined ? ` Total ${r.total.toFixed(2)}` : ''} generator ${r.generator} critic ${r.critic}`);
  }
  if (s.result) lines.push(summariseResult(s.result));
  if (s.failure) lines.push(`failure: ${s.failure}`);
  return lines.join('\n');
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, STATUS_OPTIONS, STATUS_HELP);
  if (help) return void console.log(STATUS_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', STATUS_HELP);
  const interval = values.interval === undefined ? 2 : Number(values.interval);
  if (!(interval > 0)) throw new UsageError(`--interval must be a number of seconds > 0, got "${String(values.interval)}"\n\n${STATUS_HELP}`);
  const { target, client: connecting } = connect(values);
  const c = await connecting;
  const link = workflowLink(target, id);
  const show = (status: FullStatus) => (values.json ? JSON.stringify({ ...status, ...(link ? { webUi: link } : {}) }, null, 2) : formatStatus(status, link));
  if (!values.watch) {
    const status = await readStatus(c, id);
    console.log(show(status));
    return exitCodeFor(status.workflowStatus);
  }
  return watchStatus(() => readStatus(c, id), show, interval * 1000);
}

/** `status --watch`: prints the status whenever it changes until the campaign is no longer running. */
export async function watchStatus(read: () => Promise<FullStatus>, show: (s: FullStatus) => string, intervalMs: number, print: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const outage = outageReporter(print);
  let last = '';
  for (;;) {
    let status: FullStatus | undefined;
    try {
      status = await read();
      outage.reachable();
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      outage.unreachable(err);
    }
    if (status) {
      const text = show(status);
      if (text !== last) print(`--- ${new Date().toISOString()}\n${text}`);
      last = text;
      if (status.workflowStatus !== 'RUNNING') return exitCodeFor(status.workflowStatus);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const HISTORY_OPTIONS = { json: { type: 'boolean' }, store: { type: 'string' }, config: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const HISTORY_HELP = `Usage: dual-ipo history ID [--json] [--store ROOT | --config FILE] [--address HOST:PORT] [--namespace NS]

The audit of a campaign, from its lineage manifests: per round the stage timings and main figures
(the builtin pceFilter's include how often the benchmark agrees with its kept pairs), gate values and
decisions, approvals, rollbacks, critic and generator versions, and the artifacts read and written.
--json gives every figure. The manifests are read from the campaign's artifact store (named in its
workflow); a campaign past the namespace's retention is no longer on the server: give its store with
--store or --config and the audit comes from the store alone (round manifests and campaign.json).

Options:
  --json                print every figure as JSON
  --store ROOT          the artifact store (a path, file:// or s3:// URI)
  --config FILE         take the store from a campaign config (artifacts.root, artifacts.s3)
${CONNECT_HELP}
  -h, --help            show this help`;

export async function loadManifests(storeRoot: FullStatus['memo'] | ArtifactStore, campaignId: string): Promise<RoundManifest[]> {
  if (!storeRoot) throw new Error(`campaign ${campaignId} has no artifact store in its memo`);
  const store = 'list' in storeRoot ? storeRoot : openStore(storeRoot.store.root, storeRoot.store.s3);
  const keys = (await store.list(`campaigns/${campaignId}/`)).filter((k) => /round-\d{4}\/manifest\.json$/.test(k)).sort();
  const manifests: RoundManifest[] = [];
  for (const key of keys) manifests.push(await readManifest(store, key));
  return manifests;
}

/** campaign.json, written when the campaign ends: how it stopped and its final champions. */
export interface StoredCampaignRecord {
  campaignId?: string;
  stopReason?: string;
  configHash?: string;
  state?: { lastRound?: number; champion?: { generator?: { version: string }; critic?: { version: string }; evaluation?: { total: number } } };
}

export async function readCampaignRecord(store: ArtifactStore, campaignId: string): Promise<StoredCampaignRecord | undefined> {
  const ref = await store.head(`campaigns/${campaignId}/campaign.json`);
  return ref ? store.getJson<StoredCampaignRecord>(ref) : undefined;
}

/** The status a campaign past retention gets from its store: what campaign.json says, or that it never finished. */
export function statusFromStore(campaignId: string, root: string, record: StoredCampaignRecord | undefined): FullStatus {
  const champion = record?.state?.champion;
  const summary = record
    ? `finished (${record.stopReason ?? 'no stop reason recorded'}) after round ${record.state?.lastRound ?? '?'}${champion ? `, champion generator ${champion.generator?.version ?? '-'} critic ${champion.critic?.version ?? '-'}${champion.evaluation ? ` Total ${champion.evaluation.total.toFixed(2)}` : ''}` : ''}`
    : 'no campaign.json: it never finished';
  return { campaignId, workflowStatus: `NOT ON THE SERVER (past retention?); from the store ${root}: ${summary}`, activities: [] };
}

async function storeFromFlags(values: Record<string, unknown>): Promise<ArtifactStore | undefined> {
  if (typeof values.store === 'string') return openStore(values.store);
  if (typeof values.config !== 'string') return undefined;
  const { loadConfig } = await import('../../config/load');
  const config = loadConfig(values.config);
  return openStore(config.artifacts.root, config.artifacts.s3);
}

export function formatHistory(campaignId: string, status: FullStatus, manifests: RoundManifest[], link?: string): string {
  const lines = [`campaign ${campaignId}: ${status.workflowStatus}${status.failure ? ` (${status.failure})` : ''}`];
  if (link) lines.push(`Web UI: ${link}`);
  for (const m of manifests) {
    const evaluation = (m as RoundManifest & { evaluation?: { total: number } | null }).evaluation;
    lines.push('');
    // A critic candidate the round discarded (critic gate, or the eval gate after the update) is named beside the versions.
    const discarded = m.rollbacks.find((r) => r.what === 'critic');
    lines.push(`round ${m.round}: ${m.status.toUpperCase()}  generator ${m.generator.before} -> ${m.generator.after}  critic ${m.critic.before} -> ${m.critic.after}${discarded ? ` (${discarded.from} rolled back)` : ''}${evaluation ? `  Total ${evaluation.total.toFixed(2)}` : ''}`);
    lines.push(`  ${m.startedAt} .. ${m.finishedAt}  config ${m.configHash.slice(0, 12)}  code ${m.codeVersion}`);
    for (const s of m.stages) {
      // The first few figures of each stage, and always the pairs' benchmark check (pceFilter).
      const shown = Object.entries(s.metrics).filter(([k], i) => i < 6 || k.startsWith('benchmark'));
      const metrics = shown.map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`).join(' ');
      lines.push(`  stage ${(s.step ? `${s.stage}-${s.step}` : s.stage).padEnd(20)} ${s.seconds.toFixed(1).padStart(8)}s${s.reused ? ' (reused)' : ''}  ${metrics}`);
      if (s.shards) {
        const h = s.shards;
        const hosts = Object.entries(h.hosts).map(([w, n]) => `${w}:${n}`).join(' ');
        lines.push(`    ${h.count} shards of ${h.shardSize} prompts, at most ${h.maxParallel} in flight: ${h.attempts} attempts, ${h.retried} retried, ${h.reused} reused; workers ${hosts || '-'}${h.ledger ? `; ledger ${h.ledger.uri}` : ''}`);
      }
    }
    for (const g of m.gates) {
      const figures = Object.entries(g.figures).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`).join(' ');
      lines.push(`  gate ${g.gate}: ${g.accepted ? 'ACCEPTED' : 'REJECTED'}  ${figures}  (${g.reason})`);
      if (g.approval) lines.push(`    approval: ${g.approval.decision} by ${g.approval.by}${g.approval.timedOut ? ' (timeout default)' : ''}: ${g.approval.reason} at ${g.approval.at}`);
    }
    if (m.humanTest) {
      const h = m.humanTest;
      lines.push(`  human test set: ${h.refreshed ? 'refreshed' : h.timedOut ? `not refreshed, no labels in time (${h.onTimeout})` : 'kept'} (${h.reason})${h.humanTest ? `: ${h.humanTest.uri}` : ''}`);
    }
    for (const r of m.rollbacks) lines.push(`  rollback ${r.what}: ${r.from} -> ${r.to} (${r.reason})`);
    for (const [name, ref] of Object.entries(m.outputs)) lines.push(`  output ${name}: ${ref.uri} sha256:${ref.sha256.slice(0, 12)} ${ref.size} B`);
  }
  return lines.join('\n');
}

export async function historyCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, HISTORY_OPTIONS, HISTORY_HELP);
  if (help) return void console.log(HISTORY_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', HISTORY_HELP);
  if (values.store !== undefined && values.config !== undefined) throw new UsageError(`--store and --config exclude each other\n\n${HISTORY_HELP}`);
  const given = await storeFromFlags(values);
  const { target, client: connecting } = connect(values);
  let status: FullStatus;
  let link: string | undefined;
  let store = given;
  try {
    status = await readStatus(await connecting, id);
    link = workflowLink(target, id);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    if (!given) throw new Error(`campaign ${id} is not on the server (past the namespace's retention, or a wrong id or namespace): give its artifact store with --store ROOT or --config FILE to read its audit from the store`);
    status = statusFromStore(id, given.root, await readCampaignRecord(given, id));
  }
  store ??= status.memo ? openStore(status.memo.store.root, status.memo.store.s3) : undefined;
  if (!store) throw new Error(`campaign ${id} has no artifact store in its memo: give it with --store ROOT or --config FILE`);
  const manifests = await loadManifests(store, id);
  if (values.json) console.log(JSON.stringify({ campaignId: id, workflowStatus: status.workflowStatus, failure: status.failure ?? null, result: status.result ?? null, ...(link ? { webUi: link } : {}), rounds: manifests }, null, 2));
  else console.log(formatHistory(id, status, manifests, link));
  return 0;
}

export const CONTROL_OPTIONS = { ...CONNECT_OPTIONS } as const satisfies Options;
export const STOP_OPTIONS = { now: { type: 'boolean' }, reason: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

const controlHelp = (verb: string, what: string, options = '') => `Usage: dual-ipo ${verb} ID${verb === 'stop' ? ' [--now] [--reason TEXT]' : ''} [--address HOST:PORT] [--namespace NS]

${what}

Options:
${options}${CONNECT_HELP}
  -h, --help            show this help`;
export const PAUSE_HELP = controlHelp('pause', 'Pauses the campaign before its next stage (the running activity finishes first).');
export const RESUME_HELP = controlHelp('resume', 'Resumes a paused campaign.');
export const STOP_HELP = controlHelp(
  'stop',
  'Stops the campaign after the current round. With --now the campaign is cancelled at once; compensations\nstill run (candidates are discarded, champions restored) and the round manifest records "stopped".',
  '  --now                 cancel at once (compensations still run)\n  --reason TEXT         why, recorded with the stop\n',
);

export async function pauseCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, CONTROL_OPTIONS, PAUSE_HELP);
  if (help) return void console.log(PAUSE_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', PAUSE_HELP);
  await (await client(values)).workflow.getHandle(id).signal(pauseSignal);
  console.log(`pause requested for ${id}`);
  return 0;
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, CONTROL_OPTIONS, RESUME_HELP);
  if (help) return void console.log(RESUME_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', RESUME_HELP);
  await (await client(values)).workflow.getHandle(id).signal(resumeSignal);
  console.log(`resume requested for ${id}`);
  return 0;
}

export async function stopCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, STOP_OPTIONS, STOP_HELP);
  if (help) return void console.log(STOP_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', STOP_HELP);
  const handle = (await client(values)).workflow.getHandle(id);
  if (values.now) {
    await handle.cancel();
    console.log(`cancellation requested for ${id}: compensations run, then it stops`);
  } else {
    await handle.signal(stopSignal, { reason: typeof values.reason === 'string' ? values.reason : undefined });
    console.log(`stop requested for ${id}: it stops after the current round`);
  }
  return 0;
}

export const APPROVE_OPTIONS = { gate: { type: 'string' }, decision: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const APPROVE_HELP = `Usage: dual-ipo approve ID --gate critic|eval --decision accept|reject --by NAME --reason TEXT [--address HOST:PORT] [--namespace NS]

Answers a manual approval at a gate of the campaign's current round (config gates.<gate>.approval.mode: manual).
The approval is recorded in the round's manifest.

Options:
  --gate critic|eval    the gate waiting for the approval
  --decision accept|reject
  --by NAME             who decides (recorded)
  --reason TEXT         why (recorded)
${CONNECT_HELP}
  -h, --help            show this help`;

export async function approveCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, APPROVE_OPTIONS, APPROVE_HELP);
  if (help) return void console.log(APPROVE_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', APPROVE_HELP);
  const gate = requireString(values, 'gate', APPROVE_HELP);
  const decision = requireString(values, 'decision', APPROVE_HELP);
  if (gate !== 'critic' && gate !== 'eval') throw new UsageError(`--gate must be "critic" or "eval", not "${gate}"`);
  if (decision !== 'accept' && decision !== 'reject') throw new UsageError(`--decision must be "accept" or "reject", not "${decision}"`);
  const by = requireString(values, 'by', APPROVE_HELP);
  const reason = requireString(values, 'reason', APPROVE_HELP);
  const c = await client(values);
  const status = await readStatus(c, id);
  if (!status.status) throw new UsageError(`campaign ${id} is not running (${status.workflowStatus})`);
  const round = status.status.round;
  const target = (gate as GateName) === 'critic' ? refinementWorkflowId(id, round) : roundWorkflowId(id, round);
  try {
    const record = await c.workflow.getHandle(target).executeUpdate(approveUpdate, { args: [{ gate: gate as GateName, decision, by, reason }] });
    console.log(`recorded: ${record.decision} by ${record.by} at ${record.at} (${target})`);
  } catch (err) {
    throw new UsageError(`approval refused by ${target}: ${describeFailure(err)}`);
  }
  return 0;
}
