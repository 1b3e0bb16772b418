// The campaign report from an artifact store holding what a 2-round campaign leaves behind: it shows
// the campaign's figures, and opens in headless Chromium without console errors.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
// gifenc is CommonJS: its named exports come through the default import (types: lib/world/gifenc.d.ts).
import gifenc from 'gifenc';
import { openStore, type ArtifactStore } from '../../../lib/artifacts';
import { writeManifest, type RoundManifest } from '../../../lib/artifacts/manifest';
import { writeReport } from '../../../lib/report/write';
import { auditKey, type CampaignAudit } from '../../../lib/report/audit-record';
import { renderReport, roundCosts } from '../../../lib/report/html';
import { collectReport } from '../../../lib/report/collect';

let work: string;
let store: ArtifactStore;
const ID = 'report-test';

const { GIFEncoder, quantize, applyPalette } = gifenc;

function tinyGif(shade: number): Uint8Array {
  const gif = GIFEncoder();
  for (let f = 0; f < 2; f++) {
    const rgba = new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (shade + f * 40 + i) % 256));
    const palette = quantize(rgba, 16);
    gif.writeFrame(applyPalette(rgba, palette), 8, 8, { palette, delay: 100 });
  }
  gif.finish();
  return gif.bytes();
}

async function evaluateResult(round: number, total: number, dims: Record<string, number>) {
  const prefix = `campaigns/${ID}/round-${String(round).padStart(4, '0')}/evaluate/`;
  const outputs = {
    scores: await store.putJson(`${prefix}scores`, { total }),
    'samples/p0.gif': await store.put(`${prefix}samples/p0.gif`, tinyGif(round * 60)),
    videoIndex: await store.putJson(`${prefix}videoIndex`, [{ id: 'p0', text: 'a red cat moves left' }]),
  };
  const metrics = { total, quality: total + 1, semantic: total - 4, ...Object.fromEntries(Object.entries(dims).map(([k, v]) => [`dim_${k}`, v])) };
  await store.putJson(`${prefix}result.json`, { stage: 'evaluate', outputKeyPrefix: prefix, outputs, metrics, startedAt: '2026-01-01T00:00:00Z', seconds: 1, reused: false });
}

function manifest(round: number, status: RoundManifest['status'], total: number, agreement: number): RoundManifest {
  const criticAccepted = agreement >= 0.75;
  return {
    schema: 'dual-ipo/round-manifest@1',
    campaignId: ID,
    round,
    status,
    reason: status === 'accepted' ? 'Total improved' : 'Total fell below the champion',
    configHash: 'abc123def4567890',
    codeVersion: '0.1.0+test',
    critic: { before: 'c0', after: criticAccepted ? `c${round}` : 'c0', refined: true, accepted: criticAccepted },
    generator: { before: `g${round - 1}`, after: status === 'accepted' ? `g${round}` : `g${round - 1}`, accepted: status === 'accepted' },
    inputs: {},
    outputs: {},
    gates: [
      { gate: 'critic', round, accepted: criticAccepted, reason: `agreement ${agreement}`, figures: { agreementPairwise: agreement, agreementPointwise: agreement - 0.05, threshold: 0.75 } },
      { gate: 'eval', round, accepted: status === 'accepted', reason: `Total ${total}`, figures: { total, championTotal: 70, ...(round === 1 ? { gainStandardError: 0.31, minStandardErrors: 1 } : {}) }, ...(round === 2 ? { approval: { by: 'ana', decision: 'reject', reason: 'flicker on humans', at: '2026-01-02T00:00:00Z', timedOut: false } } : {}) },
    ],
    rollbacks: status === 'rejected' ? [{ what: 'generator', from: `g${round}`, to: `g${round - 1}`, reason: 'eval gate' }] : [],
    stages: [
      { stage: 'sample', seconds: 10, reused: false, startedAt: '2026-01-01T00:00:00Z', metrics: {} },
      { stage: 'label', seconds: 5, reused: false, startedAt: '2026-01-01T00:00:10Z', metrics: {} },
      { stage: 'generatorTrain', seconds: 30, reused: false, startedAt: '2026-01-01T00:00:15Z', metrics: {} },
      { stage: 'evaluate', seconds: 4, reused: false, startedAt: '2026-01-01T00:00:45Z', metrics: {} },
    ],
    evaluation: { total, quality: total + 1, semantic: total - 4 },
    championEvaluation: { total: 70, quality: 71, semantic: 66 },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:52Z',
  };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-report-'));
  store = openStore(join(work, 'artifacts'));
  await evaluateResult(0, 70, { subject_consistency: 0.9, dynamic_degree: 0.4 });
  await evaluateResult(1, 72.5, { subject_consistency: 0.93, dynamic_degree: 0.45 });
  await evaluateResult(2, 71, { subject_consistency: 0.91, dynamic_degree: 0.5 });
  const round1 = manifest(1, 'accepted', 72.5, 0.81);
  // Filtered twice (before and after the critic update): the report shows the relabelled pairs, which trained.
  round1.stages.push(
    { stage: 'pceFilter', seconds: 1, reused: false, startedAt: '2026-01-01T00:00:15Z', metrics: { kept: 90, total: 128, benchmarkAgreement: 0.25, benchmarkChosenTotal: 50, benchmarkRejectedTotal: 51 } },
    { stage: 'pceFilter', step: 'relabel', seconds: 1, reused: false, startedAt: '2026-01-01T00:00:16Z', metrics: { kept: 100, total: 128, benchmarkAgreement: 0.5234, benchmarkChosenTotal: 58.123, benchmarkRejectedTotal: 57.9 } },
  );
  await writeManifest(store, round1);
  await writeManifest(store, manifest(2, 'rejected', 71, 0.7));
  const audit: CampaignAudit = {
    format: 'dual-ipo/audit@1',
    campaignId: ID,
    prompts: 4,
    videos: 8,
    generators: [
      { round: 0, version: 'g0', sha256: 'a'.repeat(64), total: 68, quality: 70, semantic: 60 },
      {
        round: 1,
        version: 'g1',
        sha256: 'b'.repeat(64),
        total: 68.4,
        quality: 70.2,
        semantic: 61,
        gainStandardError: 0.151,
        study: { pairs: 8, wins: 2, losses: 5, ties: 1, net: -0.375, standardError: 0.2, dimensions: { semantic: { wins: 1, losses: 1, ties: 6 }, motion: { wins: 3, losses: 4, ties: 1 }, faithfulness: { wins: 0, losses: 6, ties: 2 } } },
      },
    ],
    version: 2,
    studyEvidence: 'graded',
  };
  await store.putJson(auditKey(ID), audit);
});

describe('campaign report', () => {
  test('costs per round: stage seconds by category plus the orchestration remainder', () => {
    const costs = Object.fromEntries(roundCosts(manifest(1, 'accepted', 72, 0.8)).map((c) => [c.name, c.value]));
    assert.deepEqual(costs, { sampling: 10, labelling: 5, 'generator training': 30, evaluation: 4, orchestration: 3 });
  });

  test('the page shows the campaign\'s figures, decisions and videos, self-contained', async () => {
    const file = await writeReport(store, ID, join(work, 'out'));
    const html = await readFile(file, 'utf8');
    assert.match(html, /<b id="base-total">70\.00<\/b>/);
    assert.match(html, /<b id="final-total">72\.50<\/b>/, 'the champion is round 1, not the rejected round 2');
    assert.match(html, /<b id="gain" class="ok">\+2\.50<\/b>/);
    assert.match(html, /<b id="held-out-gain" class="ok">\+0\.40 <small class="muted">± 0\.15<\/small><\/b>/, 'the held-out gain with its paired standard error');
    assert.match(html, /<table id="audit">.*<td>68\.40<\/td><td>70\.20<\/td><td>61\.00<\/td><td>\+0\.40 <small class="muted">± 0\.15<\/small><\/td>/s);
    assert.match(html, /<b id="held-out-study" class="bad">-0\.38 <small class="muted">± 0\.20<\/small><\/b>/, 'the user study beside the held-out gain');
    assert.match(html, /<table id="audit">.*<th>study W \/ L \/ T<\/th>.*<td>2 \/ 5 \/ 1<\/td><td>-0\.38 <small class="muted">± 0\.20<\/small><\/td><\/tr>/s);
    assert.match(html, /<table id="audit-study">.*<td class="l">g1<\/td><td>1 \/ 1 \/ 6<\/td><td>3 \/ 4 \/ 1<\/td><td>0 \/ 6 \/ 2<\/td>/s, 'per dimension, as the paper\'s Fig. 3b');
    assert.match(html, /<table id="scores">.*<td>1<\/td><td class="l">g1<\/td><td class="l ok">accepted<\/td><td>72\.50<\/td>.*<td>\+2\.50 <small class="muted">± 0\.31<\/small><\/td><\/tr>/s, 'the gain the eval gate judged, with its error');
    assert.match(html, /this campaign's gate asked for 1 standard error\(s\)/);
    assert.match(html, /subject_consistency<\/td><td>90\.00<\/td><td>93\.00<\/td><td>91\.00/);
    assert.match(html, /round 2, critic gate: rejected/);
    assert.match(html, /approval: <b>reject<\/b> by ana/);
    assert.match(html, /rollback of the generator<\/b> g2 → g1/);
    assert.match(html, /81\.00%/);
    assert.match(html, /a red cat moves left/);
    assert.match(html, /<table id="pairs-vs-benchmark">.*<td>1 \(relabel\)<\/td><td>100 of 128<\/td><td>58\.12<\/td><td>57\.90<\/td><td>52\.34%<\/td><\/tr><\/table>/s, 'the pairs that trained, scored by the benchmark; round 2 has no check');
    assert.equal((html.match(/src="data:image\/gif;base64,/g) ?? []).length, 2, 'base and final GIF inline');
    assert.doesNotMatch(html, /(src|href)="(https?:|\/\/)/, 'nothing loads from the network');
    const json = JSON.parse(await readFile(join(work, 'out', 'report.json'), 'utf8'));
    assert.equal(json.evaluations.length, 3);
  });

  test('an audit written before the user study (version 1) shows without its columns', async () => {
    const data = await collectReport(store, ID);
    const { study: _s, ...g1 } = data.audit!.generators[1]!;
    const html = await renderReport({ ...data, audit: { format: 'dual-ipo/audit@1', campaignId: ID, prompts: 4, videos: 8, generators: [data.audit!.generators[0]!, g1] } }, store);
    assert.match(html, /<table id="audit">.*<td>\+0\.40 <small class="muted">± 0\.15<\/small><\/td><\/tr>/s);
    assert.doesNotMatch(html, /held-out-study|study W|audit-study/);
  });

  test('an unknown campaign is a clear error', async () => {
    await assert.rejects(writeReport(store, 'nope', join(work, 'nope')), /no rounds and no base evaluation of campaign "nope"/);
  });

  const chromium = ['chromium', 'chromium-browser'].map((c) => {
    try {
      return execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  }).find(Boolean);

  test('opens in headless Chromium without console errors', { skip: chromium ? false : 'chromium is not installed (DUAL_IPO_SETUP_CHROMIUM=1 bash scripts/setup.sh)' }, async () => {
    const { chromium: pw } = await import('playwright-core');
    const file = await writeReport(store, ID, join(work, 'browser'));
    const browser = await pw.launch({ executablePath: chromium!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      assert.equal(await page.textContent('#final-total'), '72.50');
      assert.equal(await page.locator('svg.chart').count() >= 3, true);
      const loaded = await page.$$eval('#videos img', (imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth));
      assert.deepEqual(loaded, [8, 8], 'both GIFs decode');
      await page.screenshot({ path: join(work, 'browser', 'screenshot.png'), fullPage: true });
      assert.ok(existsSync(join(work, 'browser', 'screenshot.png')));
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
