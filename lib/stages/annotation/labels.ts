// The human test set's annotation files (appendix C: the current generator's candidates, ranked by
// people): what the export hands to annotators and how their labels are read back. Pure: parsing and
// validation only, so the CLI checks a file before sending it and the ingest step refuses the same
// file with the same messages. A file with any error is refused whole (nothing is ingested).
import { HUMAN_DIMENSIONS, HUMAN_DIMENSION_NAMES, type HumanDimension, type PairLabel } from '../../world';

export const LABEL_VALUES: readonly PairLabel[] = ['A', 'B', 'tie'];

/** One pair to annotate, as listed in the export's JSONL/CSV and Label Studio tasks. */
export interface ExportedPair {
  /** Stable id: `r<round>-<prompt id>-c<a>-c<b>`. */
  id: string;
  prompt: string;
  /** Paths of the two videos (GIF), relative to the export folder. */
  videoA: string;
  videoB: string;
}

/** An annotated pair: which video is better per dimension (the pairwise labels of the human test set). */
export interface LabelRow {
  pair: string;
  labels: Record<HumanDimension, PairLabel>;
  annotator?: string;
}

export class LabelsError extends Error {
  override name = 'HumanLabelsInvalid';
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    const shown = problems.slice(0, 20);
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing ingested:\n  ${shown.join('\n  ')}${problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : ''}`);
  }
}

export const pairId = (round: number, promptId: string, a: number, b: number) => `r${String(round).padStart(4, '0')}-${promptId}-c${a}-c${b}`;

/** The plain list for annotators: one JSON object per line. */
export function pairsJsonl(pairs: readonly ExportedPair[]): string {
  return pairs.map((p) => JSON.stringify({ pair: p.id, prompt: p.prompt, videoA: p.videoA, videoB: p.videoB, ...Object.fromEntries(HUMAN_DIMENSIONS.map((d) => [d, ''])) })).join('\n') + '\n';
}

const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The same list as CSV: fill the three dimension columns with A, B or tie and submit it. */
export function pairsCsv(pairs: readonly ExportedPair[]): string {
  const header = ['pair', 'prompt', 'videoA', 'videoB', ...HUMAN_DIMENSIONS];
  const rows = pairs.map((p) => [p.id, p.prompt, p.videoA, p.videoB, ...HUMAN_DIMENSIONS.map(() => '')].map(csvCell).join(','));
  return [header.join(','), ...rows].join('\n') + '\n';
}

/**
 * A Label Studio import: one task per pair (the two videos as animated images, the prompt), and the
 * labelling config to paste into the project (a choice A / B / tie per dimension, from_name = the
 * dimension). Its JSON export comes back through `parseLabels`.
 */
export function labelStudioImport(pairs: readonly ExportedPair[], videoUrl: (path: string) => string): { tasks: unknown[]; labelConfig: string } {
  const tasks = pairs.map((p) => ({ data: { pair: p.id, prompt: p.prompt, videoA: videoUrl(p.videoA), videoB: videoUrl(p.videoB) } }));
  const choices = HUMAN_DIMENSIONS.map(
    (d) => `  <Header value="${HUMAN_DIMENSION_NAMES[d]}: which video is better?"/>\n  <Choices name="${d}" toName="prompt" choice="single" required="true">\n    <Choice value="A"/><Choice value="B"/><Choice value="tie"/>\n  </Choices>`,
  );
  const labelConfig = `<View>\n  <Text name="prompt" value="$prompt"/>\n  <Image name="videoA" value="$videoA"/>\n  <Image name="videoB" value="$videoB"/>\n${choices.join('\n')}\n</View>\n`;
  return { tasks, labelConfig };
}

interface RawRow {
  /** Where the row came from, for messages: "line 3", "row 3", "task 3". */
  where: string;
  fields: Record<string, unknown>;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cell);
      cell = '';
    } else cell += ch;
  }
  out.push(cell);
  return out;
}

/** Label Studio's JSON export: per task its data (our pair id) and the first annotation's choices. */
function fromLabelStudio(tasks: unknown[], problems: string[]): RawRow[] {
  const rows: RawRow[] = [];
  tasks.forEach((task, i) => {
    const where = `task ${i + 1}`;
    const t = task as { data?: { pair?: unknown }; annotations?: Array<{ result?: Array<{ from_name?: string; value?: { choices?: string[] } }>; completed_by?: unknown; was_cancelled?: boolean }> };
    const annotation = t.annotations?.find((a) => !a.was_cancelled);
    if (!annotation) return void problems.push(`${where}: no annotation`);
    const fields: Record<string, unknown> = { pair: t.data?.pair };
    for (const r of annotation.result ?? []) if (r.from_name) fields[r.from_name] = r.value?.choices?.[0];
    if (annotation.completed_by !== undefined) fields.annotator = String(annotation.completed_by);
    rows.push({ where, fields });
  });
  return rows;
}

/** Rows of a labels file: JSON lines, CSV with a header, or Label Studio's JSON export (by content). */
function rawRows(text: string, problems: string[]): RawRow[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      problems.push(`not valid JSON: ${(err as Error).message}`);
      return [];
    }
    if (!Array.isArray(parsed)) return void problems.push('a JSON file must be an array of Label Studio tasks'), [];
    return fromLabelStudio(parsed, problems);
  }
  const lines = text.split(/\r?\n/);
  if (trimmed.startsWith('{')) {
    const rows: RawRow[] = [];
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const where = `line ${i + 1}`;
      try {
        const value = JSON.parse(line) as unknown;
        if (!value || typeof value !== 'object' || Array.isArray(value)) problems.push(`${where}: not a JSON object`);
        else rows.push({ where, fields: value as Record<string, unknown> });
      } catch {
        problems.push(`${where}: not valid JSON`);
      }
    });
    return rows;
  }
  const header = splitCsvLine(lines[0]!).map((h) => h.trim());
  if (!header.includes('pair')) return void problems.push(`line 1: a CSV labels file needs a header with a "pair" column (got: ${header.join(', ')})`), [];
  const rows: RawRow[] = [];
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const cells = splitCsvLine(line);
    const where = `line ${i + 2}`;
    if (cells.length !== header.length) return void problems.push(`${where}: ${cells.length} columns, the header has ${header.length}`);
    rows.push({ where, fields: Object.fromEntries(header.map((h, k) => [h, cells[k]!.trim()])) });
  });
  return rows;
}

/**
 * Parses and checks a labels file against the exported pair ids: every row names a known pair, no
 * pair twice, every pair labelled, each dimension A, B or tie. Throws LabelsError listing every
 * problem with its line (or task); returns the rows in the export's order.
 */
export function parseLabels(text: string, expected: readonly string[], source = 'labels'): LabelRow[] {
  const problems: string[] = [];
  const rows = rawRows(text, problems);
  const known = new Set(expected);
  const seen = new Map<string, string>();
  const good = new Map<string, LabelRow>();
  for (const { where, fields } of rows) {
    const pair = fields.pair;
    if (typeof pair !== 'string' || !pair) {
      problems.push(`${where}: no "pair" id`);
      continue;
    }
    if (!known.has(pair)) {
      problems.push(`${where}: unknown pair "${pair}" (not in this export)`);
      continue;
    }
    const first = seen.get(pair);
    if (first) {
      problems.push(`${where}: pair "${pair}" is labelled twice (first on ${first})`);
      continue;
    }
    seen.set(pair, where);
    const labels = {} as Record<HumanDimension, PairLabel>;
    let ok = true;
    for (const d of HUMAN_DIMENSIONS) {
      const v = fields[d];
      const value = typeof v === 'string' ? (v.toLowerCase() === 'tie' ? 'tie' : v.toUpperCase()) : v;
      if (!LABEL_VALUES.includes(value as PairLabel)) {
        problems.push(`${where}: pair "${pair}", "${d}" is ${v === undefined || v === '' ? 'missing' : JSON.stringify(v)}, expected A, B or tie`);
        ok = false;
      } else labels[d] = value as PairLabel;
    }
    if (ok) good.set(pair, { pair, labels, ...(typeof fields.annotator === 'string' && fields.annotator ? { annotator: fields.annotator } : {}) });
  }
  const missing = expected.filter((id) => !seen.has(id));
  if (missing.length) problems.push(`${missing.length} of ${expected.length} pairs have no label: ${missing.slice(0, 5).map((m) => `"${m}"`).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  if (problems.length) throw new LabelsError(problems, source);
  return expected.map((id) => good.get(id)!);
}

/** Labels as JSON lines (what the simulated panel writes, and the format the CLI accepts). */
export function labelsJsonl(rows: readonly LabelRow[]): string {
  return rows.map((r) => JSON.stringify({ pair: r.pair, ...r.labels, ...(r.annotator ? { annotator: r.annotator } : {}) })).join('\n') + '\n';
}
