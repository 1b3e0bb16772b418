// The world's own rankings of a prompt's candidates (diagnostics and experiment arms, not the paper's critic).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCorrupted, renderVideo, samplePrompts } from '../../../lib/world';
import { panelWinRates } from '../../../lib/stages/builtin/world-readings';

test("rankBy 'panel': the simulated panel prefers the clean render to the same scene with its object missing or blurred", () => {
  const prompts = samplePrompts({ count: 12, seed: 'panel-ranking' });
  let cleanFirst = 0;
  for (const [k, p] of prompts.entries()) {
    const videos = [renderVideo(p.spec, { seed: k }), renderCorrupted(p.spec, 'missing_object', { seed: k, severity: 0.9 }).video, renderCorrupted(p.spec, 'blur', { seed: k, severity: 0.9 }).video];
    const rates = panelWinRates(p.spec, videos);
    assert.equal(rates.length, 3);
    assert.ok(rates.every((r) => r >= 0 && r <= 1));
    assert.ok(Math.abs(rates.reduce((a, b) => a + b, 0) - 1.5) < 1e-9, 'three pairs give out three wins');
    if (rates[0]! > Math.max(rates[1]!, rates[2]!)) cleanFirst++;
  }
  assert.ok(cleanFirst >= 10, `the clean render ranked first for ${cleanFirst} of 12 prompts`);
  // The same videos draw the same annotator noise: the ranking is reproducible.
  const p = prompts[0]!;
  const videos = [renderVideo(p.spec, { seed: 1 }), renderVideo(p.spec, { seed: 2 })];
  assert.deepEqual(panelWinRates(p.spec, videos), panelWinRates(p.spec, videos));
  assert.deepEqual(panelWinRates(p.spec, [videos[0]!]), [0.5], 'a lone candidate has nothing to beat');
});
