// The public API: everything in lib/core is importable from the package's main entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from 'dual-ipo';

test("the algorithm core is exported from 'dual-ipo'", () => {
  const names = [
    'dpoLoss', 'implicitReward', 'meanReward', 'averageRewardQ', 'preferenceCertainty', 'pceFilter', 'srpoLoss', 'selfConsistencyVote',
    'noisePredictionMse', 'diffusionDpoLoss', 'diffusionNllLoss', 'diffusionDpoTotalLoss', 'diffusionKtoLoss', 'diffusionKtoTotalLoss',
    'vbenchScores', 'buildPreferencePairs', 'pairwiseWinRates', 'splitForKto', 'pairwiseAgreement', 'pointwiseAgreement',
    'criticGate', 'evalGate', 'abnormalLoss', 'saturationStop', 'detach', 'jackknifeGain',
  ];
  for (const n of names) assert.equal(typeof (api as Record<string, unknown>)[n], 'function', n);
  assert.equal(api.VBENCH_DIMENSIONS.length, 16);
});
