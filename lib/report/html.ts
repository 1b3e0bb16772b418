// The campaign report: one self-contained HTML page (inline CSS, SVG charts, GIFs as data URIs)
// that opens from disk without a server or network.
import type { ArtifactStore } from '../artifacts/store';
import type { RoundManifest } from '../artifacts/manifest';
import type { AuditedGenerator } from './audit-record';
import type { EvaluationResult, ReportData } from './collect';
import { num, signed } from './format';
import { lineChart, stackedBars } from './svg';

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Where a round's time went, in the categories of the paper's appendix G. */
/** The user study per human dimension (the paper's Fig. 3b): wins / losses / ties against the base. */
function studyDimensions(generators: AuditedGenerator[]): string {
  const rows = generators.filter((g) => g.study);
  // The paper's order (the record's keys come back sorted from the store).
  const order = (d: string) => { const i = ['semantic', 'motion', 'faithfulness'].indexOf(d); return i < 0 ? 3 : i; };
  const dims = [...new Set(rows.flatMap((g) => Object.keys(g.study!.dimensions)))].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  return `<table id="audit-study"><tr><th>round</th><th class="l">generator</th>${dims.map((d) => `<th>${esc(d)} W / L / T</th>`).join('')}</tr>
${rows.map((g) => `<tr><td>${g.round}</td><td class="l">${esc(g.version)}</td>${dims.map((d) => { const w = g.study!.dimensions[d]; return `<td>${w ? `${w.wins} / ${w.losses} / ${w.ties}` : '–'}</td>`; }).join('')}</tr>`).join('\n')}
</table>`;
}

export function stageCategory(stage: string): string {
  const base = stage.split('-')[0]!;
  return (
    { bootstrap: 'bootstrap', sample: 'sampling', label: 'labelling', pceFilter: 'PCE filter', criticTrain: 'critic training', validate: 'critic validation', generatorTrain: 'generator training', evaluate: 'evaluation' }[
      base
    ] ?? base
  );
}

export function roundCosts(m: RoundManifest): Array<{ name: string; value: number }> {
  const byCategory = new Map<string, number>();
  for (const s of m.stages) byCategory.set(stageCategory(s.stage), (byCategory.get(stageCategory(s.stage)) ?? 0) + s.seconds);
  const wall = (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000;
  const work = [...byCategory.values()].reduce((a, b) => a + b, 0);
  return [...[...byCategory].map(([name, value]) => ({ name, value })), { name: 'orchestration', value: Math.max(0, wall - work) }];
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666}.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
table{border-collapse:collapse;margin:8px 0;background:white}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f0f0f0}td.l,th.l{text-align:left}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:white;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}.card b{display:block;font-size:20px}
svg.chart{background:white;border:1px solid #ddd;border-radius:6px;margin:6px 0}svg .title{font-weight:600;font-size:13px}svg .tick{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#222}
svg .grid{stroke:#eee}svg .threshold{stroke:#d62728;stroke-dasharray:4 3}
ol.timeline{list-style:none;padding:0}ol.timeline li{background:white;border-left:4px solid #999;margin:6px 0;padding:6px 10px}ol.timeline li.accepted{border-color:#1a7f37}ol.timeline li.rejected{border-color:#c62828}
.videos{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}.pair{background:white;border:1px solid #ddd;border-radius:6px;padding:8px}.pair img{width:128px;height:128px;image-rendering:pixelated;border:1px solid #ccc;margin-right:6px}.pair figure{display:inline-block;margin:0}
`;

async function gifDataUri(store: ArtifactStore, e: EvaluationResult | undefined, promptId: string): Promise<string | undefined> {
  const ref = e?.videos[promptId];
  if (!ref) return undefined;
  const bytes = await store.get(ref).catch(() => undefined);
  return bytes ? `data:image/gif;base64,${Buffer.from(bytes).toString('base64')}` : undefined;
}

export async function renderReport(data: ReportData, store: ArtifactStore): Promise<string> {
  const { manifests, evaluations } = data;
  const base = evaluations.find((e) => e.round === 0);
  const byRound = new Map(manifests.map((m) => [m.round, m]));
  const accepted = manifests.filter((m) => m.status === 'accepted');
  const finalChampion = accepted.at(-1);
  const finalEval = finalChampion ? evaluations.find((e) => e.round === finalChampion.round) : base;
  const sections: string[] = [];

  // Summary.
  const gain = base && finalEval ? finalEval.total - base.total : undefined;
  const heldOutGain = data.audit && data.audit.generators.length ? data.audit.generators.at(-1)!.total - data.audit.generators[0]!.total : undefined;
  const heldOutSe = data.audit?.generators.at(-1)?.gainStandardError;
  // "+0.11 ± 0.15": the audit's paired standard error, where the audit has one.
  const finalStudy = data.audit?.generators.at(-1)?.study;
  const withError = (value: number, se: number | undefined) => `${signed(value)}${se === undefined ? '' : ` <small class="muted">± ${num(se)}</small>`}`;
  sections.push(`<div class="cards">
  <div class="card"><span class="muted">rounds</span><b id="rounds">${manifests.length}</b></div>
  <div class="card"><span class="muted">accepted / rejected</span><b>${accepted.length} / ${manifests.filter((m) => m.status === 'rejected').length}</b></div>
  <div class="card"><span class="muted">base Total</span><b id="base-total">${num(base?.total)}</b></div>
  <div class="card"><span class="muted">champion Total</span><b id="final-total">${num(finalEval?.total)}</b></div>
  <div class="card"><span class="muted">gain (gate set)</span><b id="gain" class="${(gain ?? 0) >= 0 ? 'ok' : 'bad'}">${signed(gain)}</b></div>
  ${heldOutGain === undefined ? '' : `<div class="card"><span class="muted">gain (held-out audit)</span><b id="held-out-gain" class="${heldOutGain >= 0 ? 'ok' : 'bad'}">${withError(heldOutGain, heldOutSe)}</b></div>`}
  ${finalStudy === undefined ? '' : `<div class="card"><span class="muted">user study vs base (held out)</span><b id="held-out-study" class="${finalStudy.net >= 0 ? 'ok' : 'bad'}">${withError(finalStudy.net, finalStudy.standardError)}</b></div>`}
  <div class="card"><span class="muted">champions</span><b>${esc(finalChampion?.generator.after ?? 'g0')} / ${esc(manifests.at(-1)?.critic.after ?? 'c0')}</b></div>
</div>
<p class="muted">${data.record?.stopReason ? `Stopped: ${esc(data.record.stopReason)}. ` : ''}Config ${esc((manifests[0]?.configHash ?? data.record?.configHash ?? '').slice(0, 12))}, code ${esc(manifests[0]?.codeVersion ?? '?')}. Report generated ${esc(data.generatedAt)}.</p>`);

  // Evaluation per round.
  const evalGateOf = (m: (typeof manifests)[number]) => m.gates.find((g) => g.gate === 'eval');
  const vsChampion = (round: number, total: number) => {
    const m = round > 0 ? byRound.get(round) : undefined;
    const figures = m ? evalGateOf(m)?.figures : undefined;
    return figures?.championTotal === undefined ? '' : withError(total - figures.championTotal, figures.gainStandardError);
  };
  const statusOf = (round: number) => (round === 0 ? 'base' : (byRound.get(round)?.status ?? '?'));
  const series = (['total', 'quality', 'semantic'] as const).map((k) => ({
    name: k[0]!.toUpperCase() + k.slice(1),
    points: evaluations.map((e) => ({ x: e.round, y: e[k], marker: statusOf(e.round) === 'rejected' ? ('rejected' as const) : ('ok' as const) })),
  }));
  sections.push(`<h2>Evaluation per round</h2>
${lineChart(series, { title: 'VBench-style scores of each round\'s candidate (hollow red: rejected)', xLabel: 'round (0 = base model)', yLabel: 'score (0-100)' })}
<table id="scores"><tr><th>round</th><th class="l">generator</th><th class="l">decision</th><th>Total</th><th>Quality</th><th>Semantic</th><th>vs champion</th></tr>
${evaluations.map((e) => `<tr><td>${e.round}</td><td class="l">${esc(e.generator)}</td><td class="l ${statusOf(e.round) === 'rejected' ? 'bad' : 'ok'}">${esc(statusOf(e.round))}</td><td>${num(e.total)}</td><td>${num(e.quality)}</td><td>${num(e.semantic)}</td><td>${vsChampion(e.round, e.total)}</td></tr>`).join('\n')}
</table>${manifests.some((m) => evalGateOf(m)?.figures.gainStandardError !== undefined) ? `<p class="muted">"vs champion" is the gain the eval gate judged, with its standard error (paired with the champion's videos, jackknife over prompts) where the champion's per-video scores were kept${manifests.some((m) => (evalGateOf(m)?.figures.minStandardErrors ?? 0) > 0) ? `; this campaign's gate asked for ${Math.max(...manifests.map((m) => evalGateOf(m)?.figures.minStandardErrors ?? 0))} standard error(s)` : ''}.</p>` : ''}`);

  if (data.audit) {
    const a = data.audit;
    const studied = a.generators.some((g) => g.study);
    sections.push(`<h2>Held-out audit</h2>
<p class="muted">The eval gate keeps a candidate only if it beats the champion on the campaign's own evaluation prompts, which biases those figures upward. Here the base and every accepted generator are scored on ${a.prompts} fresh prompts no gate saw (${a.videos} videos each, the same noise for every generator).${a.generators.some((g) => g.gainStandardError !== undefined) ? ' "± x" is the standard error of the gain (every generator samples the same prompts with the same seeds; the error is the jackknife over prompts of the Total difference): a gain smaller than about twice it is not distinguishable from noise.' : ''}</p>
${studied ? `<p class="muted">User study: the annotator panel (${esc(a.studyEvidence ?? 'graded')} evidence) compares each generator's video with the base's of the same prompt and seed on semantic consistency, motion smoothness and faithfulness; the video preferred on more dimensions wins. "net" is (wins - losses) / pairs, ± its jackknife standard error over prompts.</p>` : ''}
<table id="audit"><tr><th>round</th><th class="l">generator</th><th>Total</th><th>Quality</th><th>Semantic</th><th>vs base</th>${studied ? '<th>study W / L / T</th><th>study net</th>' : ''}</tr>
${a.generators.map((g) => `<tr><td>${g.round}</td><td class="l">${esc(g.version)}</td><td>${num(g.total)}</td><td>${num(g.quality)}</td><td>${num(g.semantic)}</td><td>${g.round === 0 ? '' : withError(g.total - a.generators[0]!.total, g.gainStandardError)}</td>${studied ? `<td>${g.study ? `${g.study.wins} / ${g.study.losses} / ${g.study.ties}` : ''}</td><td>${g.study ? withError(g.study.net, g.study.standardError) : ''}</td>` : ''}</tr>`).join('\n')}
</table>${studied ? studyDimensions(a.generators) : ''}`);
  }

  const dims = [...new Set(evaluations.flatMap((e) => Object.keys(e.dimensions)))];
  if (dims.length > 0) {
    sections.push(`<h2>VBench dimensions</h2><table id="dimensions"><tr><th class="l">dimension</th>${evaluations.map((e) => `<th>round ${e.round}</th>`).join('')}</tr>
${dims.map((d) => `<tr><td class="l">${esc(d)}</td>${evaluations.map((e) => `<td>${num(e.dimensions[d] === undefined ? undefined : e.dimensions[d]! * 100, 2)}</td>`).join('')}</tr>`).join('\n')}</table>`);
  }

  // Critic refinements.
  const criticGates = manifests.flatMap((m) => m.gates.filter((g) => g.gate === 'critic').map((g) => ({ round: m.round, g })));
  if (criticGates.length > 0) {
    const threshold = criticGates[0]!.g.figures.threshold;
    sections.push(`<h2>Critic refinements (human-agreement gate)</h2>
${lineChart(
  [
    { name: 'pairwise', points: criticGates.map(({ round, g }) => ({ x: round, y: g.figures.agreementPairwise ?? Number.NaN, marker: g.accepted ? ('ok' as const) : ('rejected' as const) })) },
    { name: 'pointwise', points: criticGates.map(({ round, g }) => ({ x: round, y: g.figures.agreementPointwise ?? Number.NaN })) },
  ],
  { title: 'Agreement of each candidate critic with the held-out human test set', xLabel: 'round', yLabel: 'agreement', ...(threshold !== undefined ? { threshold } : {}) },
)}
<table id="critic"><tr><th>round</th><th>pairwise</th><th>pointwise</th><th>threshold</th><th class="l">decision</th></tr>
${criticGates.map(({ round, g }) => `<tr><td>${round}</td><td>${num((g.figures.agreementPairwise ?? Number.NaN) * 100)}%</td><td>${num((g.figures.agreementPointwise ?? Number.NaN) * 100)}%</td><td>${num((g.figures.threshold ?? Number.NaN) * 100)}%</td><td class="l ${g.accepted ? 'ok' : 'bad'}">${g.accepted ? 'accepted' : 'rejected, rolled back'}</td></tr>`).join('\n')}</table>`);
  }

  // The preference data against the benchmark (builtin pceFilter's diagnostic; the pairs trained on
  // are the last filtering of the round: after the critic update when it was relabelled).
  const pairChecks = manifests.flatMap((m) => {
    const filter = m.stages.filter((s) => s.stage === 'pceFilter').at(-1);
    return filter && Number.isFinite(filter.metrics['benchmarkAgreement']) ? [{ round: m.round, step: filter.step, metrics: filter.metrics }] : [];
  });
  if (pairChecks.length > 0) {
    sections.push(`<h2>Preference pairs against the benchmark</h2>
<p class="muted">Diagnostic, decides nothing: each kept pair's two videos scored alone by the evaluator. 50% agreement is a coin flip: the generator then learns preferences the benchmark does not share.</p>
<table id="pairs-vs-benchmark"><tr><th>round</th><th>pairs kept</th><th>chosen: Total</th><th>rejected: Total</th><th>benchmark agrees</th></tr>
${pairChecks.map(({ round, step, metrics }) => `<tr><td>${round}${step ? ` (${esc(step)})` : ''}</td><td>${num(metrics['kept'], 0)} of ${num(metrics['total'], 0)}</td><td>${num(metrics['benchmarkChosenTotal'])}</td><td>${num(metrics['benchmarkRejectedTotal'])}</td><td>${num((metrics['benchmarkAgreement'] ?? Number.NaN) * 100)}%</td></tr>`).join('\n')}</table>`);
  }

  // Timeline.
  const events = manifests.flatMap((m) => [
    ...m.gates.map((g) => ({
      cls: g.accepted ? 'accepted' : 'rejected',
      html: `<b>round ${m.round}, ${g.gate} gate: ${g.accepted ? 'accepted' : 'rejected'}</b> – ${esc(g.reason)}${g.approval ? `<br>approval: <b>${esc(g.approval.decision)}</b> by ${esc(g.approval.by)}${g.approval.timedOut ? ' (timeout, default action)' : ''}: ${esc(g.approval.reason)} <span class="muted">${esc(g.approval.at)}</span>` : ''}`,
    })),
    ...m.rollbacks.map((r) => ({ cls: 'rejected', html: `<b>round ${m.round}: rollback of the ${r.what}</b> ${esc(r.from)} → ${esc(r.to)} – ${esc(r.reason)}` })),
    ...(m.status === 'failed' || m.status === 'stopped' ? [{ cls: 'rejected', html: `<b>round ${m.round} ${m.status}</b> – ${esc(m.reason)}` }] : []),
  ]);
  sections.push(`<h2>Gate decisions, approvals and rollbacks</h2><ol class="timeline" id="timeline">${events.map((e) => `<li class="${e.cls}">${e.html}</li>`).join('\n') || '<li>no gate decisions yet</li>'}</ol>`);

  // Costs.
  if (manifests.length > 0) {
    const rows = manifests.map((m) => ({ label: `round ${m.round}`, parts: roundCosts(m) }));
    const categories = [...new Set(rows.flatMap((r) => r.parts.map((p) => p.name)))];
    sections.push(`<h2>Where the time went</h2>${stackedBars(rows, { title: 'Seconds per round by stage (orchestration = wall time not inside a stage)', unit: 's' })}
<table id="costs"><tr><th class="l">round</th>${categories.map((c) => `<th>${esc(c)}</th>`).join('')}<th>wall</th></tr>
${rows.map((r, i) => `<tr><td class="l">${r.label}</td>${categories.map((c) => `<td>${num(r.parts.find((p) => p.name === c)?.value, 1)}</td>`).join('')}<td>${num((Date.parse(manifests[i]!.finishedAt) - Date.parse(manifests[i]!.startedAt)) / 1000, 1)}</td></tr>`).join('\n')}</table>`);
  }

  // Sample videos, base vs final champion.
  const promptIds = base ? Object.keys(base.videos).filter((id) => finalEval?.videos[id]).slice(0, 12) : [];
  if (promptIds.length > 0 && finalEval && base) {
    const cells: string[] = [];
    for (const id of promptIds) {
      const [a, b] = [await gifDataUri(store, base, id), await gifDataUri(store, finalEval, id)];
      const text = finalEval.prompts[id] ?? base.prompts[id] ?? id;
      cells.push(`<div class="pair"><div>${esc(text)}</div><figure>${a ? `<img src="${a}" alt="base ${esc(id)}">` : ''}<figcaption>base (g0)</figcaption></figure><figure>${b ? `<img src="${b}" alt="final ${esc(id)}">` : ''}<figcaption>final (${esc(finalEval.generator)})</figcaption></figure></div>`);
    }
    sections.push(`<h2>Sample videos: base vs final generator, same prompts</h2><div class="videos" id="videos">${cells.join('\n')}</div>`);
  } else {
    sections.push(`<h2>Sample videos</h2><p class="muted">The evaluate stage of this campaign published no sample videos.</p>`);
  }

  for (const extra of data.extra ?? []) sections.push(`<h2>${esc(extra.title)}</h2>${extra.html}`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dual-IPO campaign ${esc(data.campaignId)}</title><style>${CSS}</style></head>
<body><main>
<h1>Dual-IPO campaign <code id="campaign-id">${esc(data.campaignId)}</code></h1>
${sections.join('\n')}
</main></body></html>
`;
}
