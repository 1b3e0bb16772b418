#!/usr/bin/env node
// A sleep-bound job for the `command` backend (contract: docs/command-backend.md) that stands in for
// a GPU stage in the fleet simulation (bench/fleet.ts): it sleeps for the modelled cost of its work
// and writes small real outputs that the next stage reads, so a campaign's data flow can be checked
// end to end (every prompt sampled, labelled and paired exactly once) without any model.
//
// Work and sleep: `params.seconds` + `params.secondsPerItem` x items, where items are the shard's
// videos (sample, label: prompts x candidates) or prompts (evaluate), and 1 for the other stages.
// The modelled cost (before resuming) is returned as metric `workSeconds`.
// Sharded stages: `request.shard` gives prompts [from, to); an input that is a
// `dual-ipo/shard-outputs@1` manifest is read shard file by shard file.
// Progress lines carry a checkpoint (seconds done), so a restarted job sleeps only what is left.
// Every start appends a line to `runs.log` in its job folder (tests count starts).
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const requestPath = process.argv[2] ?? process.env.DUAL_IPO_REQUEST;
if (!requestPath) {
  console.error('usage: sleep-job.mjs REQUEST.json (or set DUAL_IPO_REQUEST)');
  process.exit(2);
}
const request = JSON.parse(readFileSync(requestPath, 'utf8'));
if (!['dual-ipo/command-job@1', 'dual-ipo/command-job@2'].includes(request.contract)) {
  console.error(`unsupported contract ${request.contract}`);
  process.exit(2);
}
const { stage, params, inputs, outputDir, shard } = request;
const jobDir = process.env.DUAL_IPO_JOB_DIR;
if (jobDir) appendFileSync(join(jobDir, 'runs.log'), `${process.pid} ${new Date().toISOString()}\n`);

// Protocol lines go to the channel file when the worker names one, else to stdout.
const emit = (message) => {
  const line = `${JSON.stringify(message)}\n`;
  if (process.env.DUAL_IPO_CHANNEL) appendFileSync(process.env.DUAL_IPO_CHANNEL, line);
  else process.stdout.write(line);
};
const fail = (message) => {
  console.error(`sleep-job ${stage}: ${message}`);
  process.exit(1);
};
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const prompts = Number(params.promptsPerRound ?? 4);
const candidates = Number(params.candidatesPerPrompt ?? 4);
const evalPrompts = Number(params.evalPrompts ?? 4);
const range = shard ? [shard.from, shard.to] : [0, stage === 'evaluate' ? evalPrompts : prompts];

/** The records of an input in prompts [from, to): one file, or the shard files of a manifest. */
function recordsOf(name, from = range[0], to = range[1]) {
  const input = inputs[name];
  if (!input) fail(`input "${name}" is missing`);
  const doc = readJson(input.path);
  if (doc && doc.format === 'dual-ipo/shard-outputs@1') {
    const out = [];
    for (const s of doc.shards) {
      if (s.to <= from || s.from >= to) continue;
      if (!s.ref) fail(`input "${name}": shard ${s.index} has no file`);
      out.push(...readJson(fileURLToPath(s.ref.uri)).filter((r) => r.prompt >= from && r.prompt < to));
    }
    return out;
  }
  return doc.filter((r) => r.prompt >= from && r.prompt < to);
}

/** Each prompt in [from, to) exactly `per` times: the check that nothing was lost or duplicated. */
function checkCoverage(records, per, what, from = range[0], to = range[1]) {
  const counts = new Map();
  for (const r of records) counts.set(r.prompt, (counts.get(r.prompt) ?? 0) + 1);
  for (let p = from; p < to; p++) if ((counts.get(p) ?? 0) !== per) fail(`${what}: prompt ${p} appears ${counts.get(p) ?? 0} times, expected ${per}`);
  if (counts.size !== to - from) fail(`${what}: ${counts.size} prompts in [${from}, ${to}), expected ${to - from}`);
}

function writeOutput(name, value) {
  const path = join(outputDir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
  return { path: name };
}

const items = stage === 'sample' || stage === 'label' ? (range[1] - range[0]) * candidates : stage === 'evaluate' ? range[1] - range[0] : 1;
const workSeconds = Number(params.seconds ?? 0) + Number(params.secondsPerItem ?? 0) * items;

// The sleep, in steps that report progress with a checkpoint; a restart resumes after the last one.
const steps = Math.max(1, Number(params.steps ?? 4));
const done = Math.min(steps, Number(request.checkpoint?.step ?? 0));
if (done > 0) emit({ type: 'log', message: `resuming ${stage} at step ${done} of ${steps}` });
for (let step = done; step < steps; step++) {
  await sleep((workSeconds * 1000) / steps);
  emit({ type: 'progress', done: step + 1, total: steps, checkpoint: { step: step + 1 } });
}

const round = request.round;
const outputs = {};
const metrics = { workSeconds, items };
switch (stage) {
  case 'bootstrap':
    outputs.generator = writeOutput('generator.json', { quality: 80 });
    outputs.critic = writeOutput('critic.json', { accuracy: 0.8 });
    outputs.humanSeed = writeOutput('human-seed.json', []);
    outputs.humanTest = writeOutput('human-test.json', []);
    outputs.realVideos = writeOutput('real-videos.json', []);
    outputs.evalPrompts = writeOutput('eval-prompts.json', Array.from({ length: evalPrompts }, (_, p) => ({ prompt: p })));
    break;
  case 'sample': {
    const { quality } = readJson(inputs.generator.path);
    const videos = [];
    for (let p = range[0]; p < range[1]; p++) for (let c = 0; c < candidates; c++) videos.push({ prompt: p, candidate: c, quality });
    outputs.samples = writeOutput('samples.json', videos);
    metrics.videos = videos.length;
    break;
  }
  case 'label': {
    const videos = recordsOf('samples');
    checkCoverage(videos, candidates, 'samples');
    // A deterministic score per video: the ranking the preference pairs are built from.
    const labels = videos.map((v) => ({ ...v, score: ((v.prompt * 7919 + v.candidate * 104729 + round * 31) % 1000) / 1000 }));
    outputs.labels = writeOutput('labels.json', labels);
    metrics.videos = labels.length;
    break;
  }
  case 'pceFilter': {
    const labels = recordsOf('labels', 0, prompts);
    checkCoverage(labels, candidates, 'labels', 0, prompts);
    const byPrompt = new Map();
    for (const l of labels) byPrompt.set(l.prompt, [...(byPrompt.get(l.prompt) ?? []), l]);
    const pairs = [...byPrompt.entries()].map(([prompt, ls]) => {
      ls.sort((a, b) => b.score - a.score);
      return { prompt, chosen: ls[0].candidate, rejected: ls.at(-1).candidate };
    });
    outputs.preferences = writeOutput('preferences.json', pairs);
    metrics.pairs = pairs.length;
    break;
  }
  case 'criticTrain': {
    const { accuracy } = readJson(inputs.critic.path);
    outputs.critic = writeOutput('critic.json', { accuracy: Math.min(0.95, accuracy + 0.01) });
    metrics.pseudoLabels = readJson(inputs.pseudo.path).length;
    break;
  }
  case 'validate': {
    const { accuracy } = readJson(inputs.critic.path);
    metrics.agreementPairwise = accuracy;
    metrics.agreementPointwise = accuracy;
    break;
  }
  case 'generatorTrain': {
    const { quality } = readJson(inputs.generator.path);
    const pairs = readJson(inputs.preferences.path);
    checkCoverage(pairs, 1, 'preferences', 0, prompts);
    outputs.generator = writeOutput('generator.json', { quality: quality + 0.5 });
    Object.assign(metrics, { lossFirst: 0.69, lossMax: 0.69, lossFinal: 0.5, nanCount: 0, pairs: pairs.length });
    break;
  }
  case 'evaluate': {
    const { quality } = readJson(inputs.generator.path);
    Object.assign(metrics, { total: quality, quality: quality + 1, semantic: quality - 4 });
    outputs.scores = writeOutput('scores.json', { total: quality, prompts: range });
    break;
  }
  default:
    fail(`unknown stage "${stage}"`);
}

writeFileSync(`${request.resultFile}.tmp`, JSON.stringify({ outputs, metrics }));
renameSync(`${request.resultFile}.tmp`, request.resultFile);
