// Runs the builtin bootstrap, sample, label and pceFilter at toy size into a local store and prints
// pceFilter's outputs with what TypeScript decodes for each exported video, so test_exports.py can
// check that Python reads the same pixels from the same locators.
// Usage (from the repository root): node --import tsx python/tests/helpers/builtin-exports.ts STORE_DIR
import { openStore } from '../../../lib/artifacts';
import { getManifest, getVideos, type PreferenceSet, type SampleSet } from '../../../lib/models/datasets';
import { runStageLocally } from '../../../lib/stages/local';

const store = openStore(process.argv[2]!);
const c = { campaignId: 'py-exports', round: 1 };
const boot = await runStageLocally(store, 'bootstrap', { campaignId: c.campaignId, round: 0, params: { seed: 11, size: 'tiny', promptsPerRound: 4, candidatesPerPrompt: 3, evalPrompts: 4 } });
const o = boot.outputs;
const sample = await runStageLocally(store, 'sample', { ...c, inputs: { generator: o.generator! }, params: { seed: 11, promptsPerRound: 4, candidatesPerPrompt: 3 } });
const label = await runStageLocally(store, 'label', { ...c, inputs: { critic: o.critic!, samples: sample.outputs.samples! }, params: { seed: 11, paths: 2 } });
const filter = await runStageLocally(store, 'pceFilter', { ...c, inputs: { labels: label.outputs.labels!, critic: o.critic! }, params: { seed: 11, paths: 2, usePce: false } });

const prefs = await getManifest<PreferenceSet>(store, filter.outputs.preferences!, 'dual-ipo/preferences@1', 'preferences');
const samples = await getManifest<SampleSet>(store, sample.outputs.samples!, 'dual-ipo/samples@1', 'samples');
const { videos, ids } = await getVideos(store, samples.videos);
const decoded = Object.fromEntries(ids.map((id, i) => {
  const v = videos[i]!;
  let sum = 0;
  for (const x of v.data) sum += x;
  return [id, { shape: [v.frames, v.height, v.width, 3], sum, head: Array.from(v.data.subarray(0, 64)) }];
}));
process.stdout.write(`${JSON.stringify({ outputs: filter.outputs, videosUri: samples.videos.uri, kept: prefs.pairs.length, points: prefs.points.length, decoded })}\n`);
