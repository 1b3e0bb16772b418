// Preference data in the ecosystem's formats, so other trainers can use a round's data as it is:
//
//   TRL preference (DPOTrainer)      JSON lines {"prompt", "chosen", "rejected"}
//   TRL unpaired preference (KTO)    JSON lines {"prompt", "completion", "label"}
//   Pick-a-Pic (Diffusion-DPO's)     CSV with columns caption, video_0, video_1, label_0
//
// A video is named by a locator "<uri of the .dipv file>#<video id>": the raw videos stay in one
// verified artifact (lib/world's .dipv format), and every row says where its pixels are.
import { seedFrom } from './nn/random';

export interface ExportPair {
  prompt: string;
  chosen: string;
  rejected: string;
  chosenScore?: number;
  rejectedScore?: number;
}

export interface ExportPoint {
  prompt: string;
  completion: string;
  label: boolean;
  score?: number;
}

export const videoLocator = (videosUri: string, id: string) => `${videosUri}#${id}`;

/** TRL's preference format: one JSON object per line. */
export function trlPreferenceJsonl(pairs: readonly ExportPair[]): string {
  return pairs.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, ...(p.chosenScore !== undefined ? { score_chosen: p.chosenScore, score_rejected: p.rejectedScore } : {}) })).join('\n') + (pairs.length ? '\n' : '');
}

/** TRL's unpaired preference format (KTOTrainer): label true = desirable. */
export function trlUnpairedJsonl(points: readonly ExportPoint[]): string {
  return points.map((p) => JSON.stringify({ prompt: p.prompt, completion: p.completion, label: p.label })).join('\n') + (points.length ? '\n' : '');
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Pick-a-Pic's layout: each row shows two videos in a fixed but arbitrary order and label_0 says
 * whether video_0 is the preferred one (1, or 0 when video_1 is; 0.5 would be a tie). The order is
 * a hash of the pair, so about half the rows have label_0 = 0, as in Pick-a-Pic itself.
 */
export function pickAPicCsv(pairs: readonly ExportPair[]): string {
  const lines = ['caption,video_0,video_1,label_0'];
  for (const p of pairs) {
    const swap = seedFrom('pick-a-pic', p.chosen, p.rejected) % 2 === 1;
    const [v0, v1] = swap ? [p.rejected, p.chosen] : [p.chosen, p.rejected];
    lines.push([p.prompt, v0, v1, swap ? 0 : 1].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Parses the CSV back (tests; a consumer's view). */
export function parsePickAPicCsv(text: string): { caption: string; video_0: string; video_1: string; label_0: number }[] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  const [header, ...body] = rows;
  if (header?.join(',') !== 'caption,video_0,video_1,label_0') throw new Error(`not a Pick-a-Pic table (header: ${header?.join(',')})`);
  return body.map((r) => ({ caption: r[0]!, video_0: r[1]!, video_1: r[2]!, label_0: Number(r[3]) }));
}
