// `dual-ipo list`: the campaigns a namespace knows, from Temporal's visibility store (the campaign
// search attributes), so an operator needs neither the Web UI nor a campaign id to find them.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { connectClient, resolveTarget } from '../temporal/connection';
import { CampaignIdKey, ChampionCriticKey, ChampionGeneratorKey, RoundKey, StageKey } from '../../workflows/search-attributes';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, targetOverrides, UsageError, type Options } from './args';
import { workflowLink } from './run-command';

export const LIST_OPTIONS = { state: { type: 'string' }, name: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, ...CONNECT_OPTIONS } as const satisfies Options;

/** --state values and the ExecutionStatus each stands for in a visibility query. */
export const LIST_STATES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
};

export const LIST_HELP = `Usage: dual-ipo list [--state STATE] [--name TEXT] [--limit N] [--json] [--address HOST:PORT] [--namespace NS]

Lists the campaigns of the namespace, newest first: id, state, round, stage, champion generator and
critic, start time (from Temporal's visibility store and the campaign search attributes). Campaigns
past the namespace's retention are no longer listed; their audit stays in the artifact store
(dual-ipo history ID --store ROOT).

Options:
  --state STATE         only campaigns in STATE: ${Object.keys(LIST_STATES).join(', ')}
  --name TEXT           only campaigns whose id or config name contains TEXT
  --limit N             at most N campaigns (default 50)
  --json                print JSON lines, one campaign each
${CONNECT_HELP}
  -h, --help            show this help`;

export interface CampaignListing {
  campaignId: string;
  name?: string;
  state: string;
  round?: number;
  stage?: string;
  championGenerator?: string;
  championCritic?: string;
  startTime: string;
  closeTime?: string;
  webUi?: string;
}

/** The visibility query: campaign workflows only (not their rounds), the latest run of each (no continued-as-new runs). */
export function listQuery(state?: string): string {
  const clauses = [`WorkflowType = 'dualIpoCampaign'`, `${CampaignIdKey.name} IS NOT NULL`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (state) clauses.push(`ExecutionStatus = '${LIST_STATES[state]}'`);
  return clauses.join(' AND ');
}

export function toListing(info: WorkflowExecutionInfo): CampaignListing {
  const attrs = info.typedSearchAttributes;
  const memo = info.memo as { name?: unknown } | undefined;
  const round = attrs.get(RoundKey);
  const stage = attrs.get(StageKey);
  const generator = attrs.get(ChampionGeneratorKey);
  const critic = attrs.get(ChampionCriticKey);
  return {
    campaignId: attrs.get(CampaignIdKey) ?? info.workflowId,
    ...(typeof memo?.name === 'string' ? { name: memo.name } : {}),
    state: info.status.name,
    ...(round !== undefined ? { round } : {}),
    ...(stage !== undefined ? { stage } : {}),
    ...(generator !== undefined ? { championGenerator: generator } : {}),
    ...(critic !== undefined ? { championCritic: critic } : {}),
    startTime: info.startTime.toISOString(),
    ...(info.closeTime ? { closeTime: info.closeTime.toISOString() } : {}),
  };
}

export function formatListing(rows: CampaignListing[]): string {
  if (rows.length === 0) return 'no campaigns';
  const table = [['CAMPAIGN', 'STATE', 'ROUND', 'STAGE', 'CHAMPION', 'STARTED'], ...rows.map((r) => [r.campaignId, r.state, r.round === undefined ? '-' : String(r.round), r.stage ?? '-', r.championGenerator ? `${r.championGenerator}/${r.championCritic ?? '-'}` : '-', r.startTime.replace(/\.\d+Z$/, 'Z')])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function listCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, LIST_OPTIONS, LIST_HELP);
  if (help) return void console.log(LIST_HELP), 0;
  const state = typeof values.state === 'string' ? values.state.toLowerCase() : undefined;
  if (state !== undefined && !(state in LIST_STATES)) throw new UsageError(`--state must be one of ${Object.keys(LIST_STATES).join(', ')}, not "${String(values.state)}"\n\n${LIST_HELP}`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be an integer >= 1, got "${String(values.limit)}"\n\n${LIST_HELP}`);
  const name = typeof values.name === 'string' ? values.name : undefined;
  const target = resolveTarget(targetOverrides(values));
  const client = await connectClient(target);
  try {
    const rows: CampaignListing[] = [];
    for await (const info of client.workflow.list({ query: listQuery(state) })) {
      const row = toListing(info);
      if (name && !row.campaignId.includes(name) && !row.name?.includes(name)) continue;
      const link = workflowLink(target, row.campaignId);
      rows.push(link ? { ...row, webUi: link } : row);
      if (rows.length >= limit) break;
    }
    if (!values.json) console.log(formatListing(rows));
    else for (const r of rows) console.log(JSON.stringify(r));
    return 0;
  } finally {
    await client.connection.close();
  }
}
