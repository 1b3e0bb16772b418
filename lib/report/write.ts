// Writes the report folder: index.html (self-contained) and report.json (the figures it shows).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/store';
import { collectReport, type ReportData } from './collect';
import { renderReport } from './html';

export async function writeReport(store: ArtifactStore, campaignId: string, outDir: string, extra?: ReportData['extra']): Promise<string> {
  const data = await collectReport(store, campaignId);
  if (extra) data.extra = extra;
  const html = await renderReport(data, store);
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.html');
  // Temp then rename: an open report is never replaced by half a page.
  await writeFile(`${file}.tmp`, html);
  await rename(`${file}.tmp`, file);
  const summary = { campaignId, generatedAt: data.generatedAt, evaluations: data.evaluations.map(({ videos: _v, ...e }) => e), rounds: data.manifests };
  await writeFile(join(outDir, 'report.json.tmp'), JSON.stringify(summary, null, 2));
  await rename(join(outDir, 'report.json.tmp'), join(outDir, 'report.json'));
  return file;
}
