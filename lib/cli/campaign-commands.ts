// `status`, `history`, `pause`, `resume`, `stop` and `approve`: talking to a campaign by its id.
import { connectClient, resolveTarget } from '../temporal/connection';
import { openStore } from '../artifacts';
import { readManifest, type RoundManifest } from '../artifacts/manifest';
import { parse, requirePositional, requireString, UsageError } from './args';
import { describeFailure, readStatus, type FullStatus } from '../campaign/client';
import {
  approveUpdate,
  pauseSignal,
  refinementWorkflowId,
  resumeSignal,
  roundWorkflowId,
  stopSignal,
  type GateName,
} from '../../workflows/definitions';
import { summariseResult } from './run-command';

async function client() {
  return connectClient(resolveTarget());
}

export const STATUS_HELP = `Usage: dual-ipo status ID [--json]

Shows a campaign: phase, round, stage and progress of the running activity, champion critic and
generator versions, the last gate decisions, and the recent rounds.`;

export function formatStatus(s: FullStatus): string {
  const lines = [`campaign ${s.campaignId}: ${s.workflowStatus}`];
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
  const { values, positionals, help } = parse(argv, { json: { type: 'boolean' } }, STATUS_HELP);
  if (help) return void console.log(STATUS_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', STATUS_HELP);
  const status = await readStatus(await client(), id);
  console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  return 0;
}

export const HISTORY_HELP = `Usage: dual-ipo history ID [--json]

The audit of a campaign, from its lineage manifests: per round the stage timings and main figures
(the builtin pceFilter's include how often the benchmark agrees with its kept pairs), gate values and
decisions, approvals, rollbacks, critic and generator versions, and the artifacts read and written.
--json gives every figure.`;

export async function loadManifests(storeRoot: FullStatus['memo'], campaignId: string): Promise<RoundManifest[]> {
  if (!storeRoot) throw new Error(`campaign ${campaignId} has no artifact store in its memo`);
  const store = openStore(storeRoot.store.root, storeRoot.store.s3);
  const keys = (await store.list(`campaigns/${campaignId}/`)).filter((k) => /round-\d{4}\/manifest\.json$/.test(k)).sort();
  const manifests: RoundManifest[] = [];
  for (const key of keys) manifests.push(await readManifest(store, key));
  return manifests;
}

export function formatHistory(campaignId: string, status: FullStatus, manifests: RoundManifest[]): string {
  const lines = [`campaign ${campaignId}: ${status.workflowStatus}${status.failure ? ` (${status.failure})` : ''}`];
  for (const m of manifests) {
    const evaluation = (m as RoundManifest & { evaluation?: { total: number } | null }).evaluation;
    lines.push('');
    lines.push(`round ${m.round}: ${m.status.toUpperCase()}  generator ${m.generator.before} -> ${m.generator.after}  critic ${m.critic.before} -> ${m.critic.after}${evaluation ? `  Total ${evaluation.total.toFixed(2)}` : ''}`);
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
    for (const r of m.rollbacks) lines.push(`  rollback ${r.what}: ${r.from} -> ${r.to} (${r.reason})`);
    for (const [name, ref] of Object.entries(m.outputs)) lines.push(`  output ${name}: ${ref.uri} sha256:${ref.sha256.slice(0, 12)} ${ref.size} B`);
  }
  return lines.join('\n');
}

export async function historyCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, { json: { type: 'boolean' } }, HISTORY_HELP);
  if (help) return void console.log(HISTORY_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', HISTORY_HELP);
  const status = await readStatus(await client(), id);
  const manifests = await loadManifests(status.memo, id);
  if (values.json) console.log(JSON.stringify({ campaignId: id, workflowStatus: status.workflowStatus, failure: status.failure ?? null, result: status.result ?? null, rounds: manifests }, null, 2));
  else console.log(formatHistory(id, status, manifests));
  return 0;
}

const controlHelp = (verb: string, what: string) => `Usage: dual-ipo ${verb} ID${verb === 'stop' ? ' [--now] [--reason TEXT]' : ''}\n\n${what}`;
export const PAUSE_HELP = controlHelp('pause', 'Pauses the campaign before its next stage (the running activity finishes first).');
export const RESUME_HELP = controlHelp('resume', 'Resumes a paused campaign.');
export const STOP_HELP = controlHelp(
  'stop',
  'Stops the campaign after the current round. With --now the campaign is cancelled at once; compensations\nstill run (candidates are discarded, champions restored) and the round manifest records "stopped".',
);

export async function pauseCommand(argv: string[]): Promise<number> {
  const { positionals, help } = parse(argv, {}, PAUSE_HELP);
  if (help) return void console.log(PAUSE_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', PAUSE_HELP);
  await (await client()).workflow.getHandle(id).signal(pauseSignal);
  console.log(`pause requested for ${id}`);
  return 0;
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const { positionals, help } = parse(argv, {}, RESUME_HELP);
  if (help) return void console.log(RESUME_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', RESUME_HELP);
  await (await client()).workflow.getHandle(id).signal(resumeSignal);
  console.log(`resume requested for ${id}`);
  return 0;
}

export async function stopCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, { now: { type: 'boolean' }, reason: { type: 'string' } }, STOP_HELP);
  if (help) return void console.log(STOP_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', STOP_HELP);
  const handle = (await client()).workflow.getHandle(id);
  if (values.now) {
    await handle.cancel();
    console.log(`cancellation requested for ${id}: compensations run, then it stops`);
  } else {
    await handle.signal(stopSignal, { reason: typeof values.reason === 'string' ? values.reason : undefined });
    console.log(`stop requested for ${id}: it stops after the current round`);
  }
  return 0;
}

export const APPROVE_HELP = `Usage: dual-ipo approve ID --gate critic|eval --decision accept|reject --by NAME --reason TEXT

Answers a manual approval at a gate of the campaign's current round (config gates.<gate>.approval.mode: manual).
The approval is recorded in the round's manifest.`;

export async function approveCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(
    argv,
    { gate: { type: 'string' }, decision: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' } },
    APPROVE_HELP,
  );
  if (help) return void console.log(APPROVE_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', APPROVE_HELP);
  const gate = requireString(values, 'gate', APPROVE_HELP);
  const decision = requireString(values, 'decision', APPROVE_HELP);
  if (gate !== 'critic' && gate !== 'eval') throw new UsageError(`--gate must be "critic" or "eval", not "${gate}"`);
  if (decision !== 'accept' && decision !== 'reject') throw new UsageError(`--decision must be "accept" or "reject", not "${decision}"`);
  const by = requireString(values, 'by', APPROVE_HELP);
  const reason = requireString(values, 'reason', APPROVE_HELP);
  const c = await client();
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
