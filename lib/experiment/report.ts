// The experiment's results table (mean ± std over seeds) as HTML and JSON.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { num, signed } from '../report/format';
import { lineChart } from '../report/svg';
import { formatDifference, formatMeanStd, meanStd, pairedDifference, summariseVariants, type RunResult } from './summary';

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One campaign's held-out gain with its standard error (jackknife over prompts), where the audit has one. */
function heldOutGain(audit: { base: number; final: number; gainStandardError?: number }): string {
  return `${signed(audit.final - audit.base)}${audit.gainStandardError === undefined ? '' : ` ± ${num(audit.gainStandardError)}`}`;
}

/** The paired comparisons: a minus b per seed and their mean ± standard error, on both metrics. */
export function comparisonTableHtml(results: RunResult[], compare: readonly (readonly [string, string])[]): string {
  const rows = compare.map(([a, b]) => pairedDifference(results, a, b)).filter((d) => d.seeds.length);
  if (!rows.length) return '';
  const per = (xs: number[], digits: number) => xs.map((x) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`).join(', ');
  return `<h2>Paired comparisons</h2><p>Per seed, variant a's held-out gain minus variant b's, and the user study's net (wins - losses) / pairs against the base, a minus b; mean ± standard error of those differences over seeds (SE: how many standard errors the mean is from 0).</p>
<table id="comparisons"><tr><th style="text-align:left">a - b</th><th>seeds</th><th>held-out gain</th><th style="text-align:left">per seed</th><th>user study net</th><th style="text-align:left">per seed</th></tr>
${rows.map((d) => `<tr><td style="text-align:left">${esc(d.a)} - ${esc(d.b)}</td><td>${d.seeds.join(', ')}</td><td>${formatDifference(d.totalMean)}</td><td style="text-align:left">${per(d.total, 2)}</td><td>${formatDifference(d.studyMean, 3)}</td><td style="text-align:left">${per(d.study, 3)}</td></tr>`).join('\n')}</table>`;
}

/** The final generator's user study against the base; a campaign that kept none is the base itself. */
function studyCell(study?: { wins: number; losses: number; ties: number; net: number; standardError?: number }): string {
  if (!study) return 'base kept';
  return `${study.wins} / ${study.losses} / ${study.ties}, ${study.net >= 0 ? '+' : ''}${study.net.toFixed(3)}${study.standardError === undefined ? '' : ` ± ${study.standardError.toFixed(3)}`}`;
}

export function experimentTableHtml(results: RunResult[], compare: readonly (readonly [string, string])[] = []): string {
  const summary = summariseVariants(results);
  const maxRounds = Math.max(...results.map((r) => r.acceptedTotals.length));
  const series = summary.map((s) => ({
    name: s.variant,
    points: Array.from({ length: maxRounds }, (_, i) => ({ x: i, y: meanStd(results.filter((r) => r.variant === s.variant && r.acceptedTotals[i] !== undefined).map((r) => r.acceptedTotals[i]!)).mean })),
  }));
  const audited = summary.some((s) => s.auditGain);
  const ms = (x?: { mean: number; std: number }) => (x ? formatMeanStd(x) : '-');
  return `<p>Gate set: the campaign's own evaluation prompts, on which the eval gate chose the champion (biased upward: a noisy candidate is kept when the noise favours it).${audited ? ' Held-out: fresh prompts no gate saw, the base and the final generator with the same noise (lib/experiment/audit.ts); compare variants on these.' : ''}</p>
<table id="experiment"><tr><th style="text-align:left">variant</th><th>runs</th><th>final Total, gate set</th><th>gain, gate set</th>${audited ? '<th>final Total, held-out</th><th>gain, held-out</th><th>user study net</th>' : ''}</tr>
${summary.map((s) => `<tr><td style="text-align:left">${esc(s.variant)}</td><td>${s.runs}</td><td>${formatMeanStd(s.finalTotal)}</td><td>${formatMeanStd(s.gain)}</td>${audited ? `<td>${ms(s.auditFinal)}</td><td>${ms(s.auditGain)}</td><td>${s.studyNet ? formatMeanStd(s.studyNet, 3) : '-'}</td>` : ''}</tr>`).join('\n')}</table>
${comparisonTableHtml(results, compare)}
${lineChart(series, { title: 'Mean Total of the base model and each accepted round', xLabel: 'accepted round (0 = base)', yLabel: 'Total' })}
<table><tr><th style="text-align:left">campaign</th><th>seed</th><th>base</th><th>final</th>${audited ? '<th>base, held-out</th><th>final, held-out</th><th>gain, held-out</th><th>user study: wins / losses / ties, net</th>' : ''}<th>rounds</th><th>accepted</th><th style="text-align:left">stop</th></tr>
${results.map((r) => `<tr><td style="text-align:left">${esc(r.campaignId)}</td><td>${r.seed}</td><td>${r.baseTotal.toFixed(2)}</td><td>${r.finalTotal.toFixed(2)}</td>${audited ? `<td>${r.audit ? r.audit.base.toFixed(2) : '-'}</td><td>${r.audit ? r.audit.final.toFixed(2) : '-'}</td><td>${r.audit ? heldOutGain(r.audit) : '-'}</td><td>${r.audit ? studyCell(r.audit.study) : '-'}</td>` : ''}<td>${r.rounds}</td><td>${r.acceptedTotals.length - 1}</td><td style="text-align:left">${esc(r.stopReason)}</td></tr>`).join('\n')}</table>`;
}

export async function writeExperimentReport(name: string, results: RunResult[], outDir: string, compare: readonly (readonly [string, string])[] = []): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dual-IPO experiment ${esc(name)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px}table{border-collapse:collapse;margin:10px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f0f0f0}
svg .title{font-weight:600;font-size:13px}svg .tick{font-size:11px;fill:#444}svg .label{font-size:12px}svg .grid{stroke:#eee}svg.chart{border:1px solid #ddd}</style></head>
<body><h1>Dual-IPO experiment <code>${esc(name)}</code></h1>${experimentTableHtml(results, compare)}</body></html>\n`;
  const file = join(outDir, 'index.html');
  await writeFile(`${file}.tmp`, html);
  await rename(`${file}.tmp`, file);
  await writeFile(join(outDir, 'results.json.tmp'), JSON.stringify({ name, results, summary: summariseVariants(results), comparisons: compare.map(([a, b]) => pairedDifference(results, a, b)) }, null, 2));
  await rename(join(outDir, 'results.json.tmp'), join(outDir, 'results.json'));
  return file;
}
