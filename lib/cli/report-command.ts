// `dual-ipo report ID --out DIR`: the campaign report, from the artifact store.
import { resolve } from 'node:path';
import { openStore } from '../artifacts';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectClient, resolveTarget } from '../temporal/connection';
import { writeReport } from '../report/write';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, requirePositional, targetOverrides, UsageError, type Options } from './args';
import { readStatus } from '../campaign/client';

export const REPORT_OPTIONS = { out: { type: 'string' }, store: { type: 'string' }, config: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const REPORT_HELP = `Usage: dual-ipo report ID [--out DIR] [--store ROOT | --config FILE] [--address HOST:PORT] [--namespace NS]

Writes a self-contained HTML report of campaign ID (DIR/index.html, default reports/<ID>/): the
Total/Quality/Semantic and VBench dimensions per round, the held-out audit when one was run, critic
agreement per refinement, how often the benchmark agrees with each round's preference pairs
(builtin backend), gate decisions, approvals and rollbacks on a timeline, where the time went per
stage, and sample videos of the base and the final generator for the same prompts. It opens
without a server or network.

Options:
  --out DIR             output folder (default reports/<ID>)
  --store ROOT          read the campaign's artifacts from ROOT (file path, file:// or s3:// URI) instead
                        of asking Temporal where they are: works without a server and past retention
  --config FILE         take the store from a campaign config (artifacts.root, artifacts.s3)
${CONNECT_HELP}
  -h, --help            show this help`;

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, REPORT_OPTIONS, REPORT_HELP);
  if (help) return void console.log(REPORT_HELP), 0;
  const id = requirePositional(positionals, 'campaign ID', REPORT_HELP);
  let root = values.store as string | undefined;
  let s3: Parameters<typeof openStore>[1];
  if (root !== undefined && values.config !== undefined) throw new UsageError(`--store and --config exclude each other\n\n${REPORT_HELP}`);
  if (typeof values.config === 'string') {
    const { loadConfig } = await import('../../config/load');
    const config = loadConfig(values.config);
    root = config.artifacts.root;
    s3 = config.artifacts.s3;
  }
  if (!root) {
    const status = await readStatus(await connectClient(resolveTarget(targetOverrides(values))), id).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new UsageError(`campaign ${id} is not on the server (past the namespace's retention, or a wrong id or namespace): pass --store ROOT or --config FILE to report from the store`);
      throw err;
    });
    if (!status.memo) throw new UsageError(`campaign ${id} has no artifact store in its memo; pass --store ROOT`);
    root = status.memo.store.root;
    s3 = status.memo.store.s3;
  }
  const out = resolve((values.out as string | undefined) ?? `reports/${id}`);
  const file = await writeReport(openStore(root, s3), id, out);
  console.log(`report: ${file}`);
  return 0;
}
