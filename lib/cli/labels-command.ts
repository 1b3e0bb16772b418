// `labels submit`: hands a human labels file to the round waiting for it (workflows/human-test.ts).
// The file is checked against the round's export here first (the same check the ingest runs), so a
// bad row is reported at once and nothing is sent; a good file is put in the campaign's artifact store
// and its reference sent with the `submitHumanLabels` update, which answers once the file is ingested.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { connectClient, resolveTarget } from '../temporal/connection';
import { openStore } from '../artifacts';
import { describeFailure, readStatus } from '../campaign/client';
import { humanTestFolder, type HumanTestExport } from '../stages/annotation/human-test';
import { parseLabels } from '../stages/annotation/labels';
import { humanLabelsStatusQuery, humanTestWorkflowId, submitHumanLabelsUpdate } from '../../workflows/human-test-definitions';
import { CONNECT_HELP, CONNECT_OPTIONS, parse, requirePositional, requireString, targetOverrides, UsageError, type Options } from './args';

export const LABELS_OPTIONS = { file: { type: 'string' }, by: { type: 'string' }, ...CONNECT_OPTIONS } as const satisfies Options;

export const LABELS_HELP = `Usage: dual-ipo labels submit ID --file LABELS --by NAME [--address HOST:PORT] [--namespace NS]

Submits human labels for the pairs a round exported for annotation (config humanTest.source: champion,
annotators: external; docs/annotation.md). \`dual-ipo status ID\` shows what a round is waiting for and
where its export is (Label Studio tasks and config, pairs.jsonl, pairs.csv, the videos).

LABELS is one of:
  JSON lines   {"pair": "<id>", "semantic": "A", "motion": "B", "faithfulness": "tie"} per line
  CSV          pairs.csv with its semantic, motion and faithfulness columns filled in (A, B or tie)
  JSON         Label Studio's JSON export of the imported tasks

The file is checked against the export before anything is sent: an unknown or duplicate pair, a
missing pair or a value other than A, B or tie is reported with its line, and nothing is submitted.
The round validates it again, ingests it and answers with the new test set.

Options:
  --file LABELS         the labels file
  --by NAME             who labelled (recorded in the round manifest)
${CONNECT_HELP}
  -h, --help            show this help`;

export async function labelsCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parse(argv, LABELS_OPTIONS, LABELS_HELP);
  if (help) return void console.log(LABELS_HELP), 0;
  const [verb, ...rest] = positionals;
  if (verb !== 'submit') throw new UsageError(`${verb ? `unknown subcommand "${verb}"` : 'missing subcommand'}: dual-ipo labels submit ID --file LABELS --by NAME\n\n${LABELS_HELP}`);
  const id = requirePositional(rest, 'campaign ID', LABELS_HELP);
  const file = requireString(values, 'file', LABELS_HELP);
  const by = requireString(values, 'by', LABELS_HELP);
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`--file ${file}: ${err.message}`);
  });
  const client = await connectClient(resolveTarget(targetOverrides(values)));
  const status = await readStatus(client, id);
  if (!status.status) throw new UsageError(`campaign ${id} is not running (${status.workflowStatus})`);
  if (!status.memo) throw new Error(`campaign ${id} has no artifact store in its memo`);
  const round = status.status.round;
  const target = humanTestWorkflowId(id, round);
  const view = await client.workflow.getHandle(target).query(humanLabelsStatusQuery).catch(() => undefined);
  if (!view || view.phase !== 'awaiting-labels' || !view.export) throw new UsageError(`round ${round} of ${id} is not waiting for human labels${view ? ` (${view.phase})` : ''}`);
  const store = openStore(status.memo.store.root, status.memo.store.s3);
  const exp = await store.getJson<HumanTestExport>(view.export.manifest);
  const rows = parseLabels(text, exp.pairs.map((p) => p.id), file);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const labels = await store.put(`${humanTestFolder(id, round)}submitted/${digest}${extname(file) || '.txt'}`, text);
  try {
    const receipt = await client.workflow.getHandle(target).executeUpdate(submitHumanLabelsUpdate, { args: [{ labels, by }] });
    console.log(`round ${round}: ${rows.length} labelled pairs ingested (${receipt.fixedPairs} fixed pairs kept): the critic gate validates on ${receipt.humanTest.uri}`);
  } catch (err) {
    throw new Error(`labels refused by ${target}: ${describeFailure(err)}`);
  }
  return 0;
}
