#!/usr/bin/env node
// Example job for the `command` backend (contract: docs/command-backend.md). One program serves
// every stage of a toy Dual-IPO world where a "generator" is a quality number and a "critic" an
// accuracy: deterministic, quick, and faithful to the data flow, so campaigns, gates, rollbacks
// and crash recovery can be exercised without models. Replace it with your own trainer.
//
// Reads the request (argv[2] or $DUAL_IPO_REQUEST), prints JSON progress lines with a resume
// checkpoint, writes outputs into request.outputDir and the result file request.resultFile.
import { readFileSync, writeFileSync, renameSync, mkdirSync, appendFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';

const requestPath = process.argv[2] ?? process.env.DUAL_IPO_REQUEST;
if (!requestPath) {
  console.error('usage: stage-job.mjs REQUEST.json (or set DUAL_IPO_REQUEST)');
  process.exit(2);
}
const request = JSON.parse(readFileSync(requestPath, 'utf8'));
if (request.contract !== 'dual-ipo/command-job@1') {
  console.error(`unsupported contract ${request.contract}`);
  process.exit(2);
}
const { stage, params, inputs, outputDir } = request;
const steps = Number(params.steps ?? 5);
const delay = Number(params.stepDelayMs ?? 0);
const seed = `${params.seed ?? 0}/${request.round}/${stage}`;

// Runs of this job, for tests that check a job ran once (appended, never rewritten).
if (process.env.DUAL_IPO_JOB_DIR) appendFileSync(join(process.env.DUAL_IPO_JOB_DIR, 'runs.log'), `${process.pid}\n`);

const emit = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const readJson = (name) => JSON.parse(readFileSync(inputs[name].path, 'utf8'));
const unit = (text) => parseInt(createHash('sha256').update(text).digest('hex').slice(0, 8), 16) / 0xffffffff;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeOutput(name, value) {
  const path = join(outputDir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  renameSync(`${path}.tmp`, path);
  return { path: name };
}

// The work happens in `steps` resumable steps; a restarted job skips the steps it finished.
const start = Number(request.checkpoint?.step ?? 0);
if (start > 0) emit({ type: 'log', message: `resuming ${stage} at step ${start}` });
for (let step = start; step < steps; step++) {
  await sleep(delay);
  emit({ type: 'progress', done: step + 1, total: steps, message: `${stage} step ${step + 1}/${steps}`, checkpoint: { step: step + 1 } });
}

const outputs = {};
const metrics = {};
switch (stage) {
  case 'bootstrap': {
    outputs.generator = writeOutput('generator.json', { quality: 70 });
    outputs.critic = writeOutput('critic.json', { accuracy: 0.78 });
    outputs.humanSeed = writeOutput('human-seed.jsonl', Array.from({ length: 32 }, (_, i) => JSON.stringify({ pair: i, label: unit(`seed${i}`) > 0.5 ? 'A' : 'B' })).join('\n'));
    outputs.humanTest = writeOutput('human-test.jsonl', Array.from({ length: 16 }, (_, i) => JSON.stringify({ pair: i, label: unit(`test${i}`) > 0.5 ? 'A' : 'B' })).join('\n'));
    outputs.realVideos = writeOutput('real-videos.json', { count: 8 });
    outputs.evalPrompts = writeOutput('eval-prompts.jsonl', Array.from({ length: Number(params.evalPrompts ?? 4) }, (_, i) => JSON.stringify({ id: `p${i}` })).join('\n'));
    break;
  }
  case 'sample': {
    const { quality } = readJson('generator');
    const n = Number(params.promptsPerRound ?? 4) * Number(params.candidatesPerPrompt ?? 4);
    const videos = Array.from({ length: n }, (_, i) => ({ id: i, prompt: Math.floor(i / Number(params.candidatesPerPrompt ?? 4)), quality: quality + 10 * (unit(`${seed}/${i}`) - 0.5) }));
    outputs.samples = writeOutput('samples.json', videos);
    metrics.videos = n;
    break;
  }
  case 'label': {
    const { accuracy } = readJson('critic');
    const videos = readJson('samples');
    const labels = videos.map((v) => ({ ...v, score: v.quality + (1 - accuracy) * 20 * (unit(`${seed}/${request.step}/${v.id}`) - 0.5) }));
    outputs.labels = writeOutput('labels.json', labels);
    metrics.pairs = new Set(labels.map((l) => l.prompt)).size;
    break;
  }
  case 'pceFilter': {
    const labels = readJson('labels');
    const mean = labels.reduce((a, l) => a + l.score, 0) / labels.length;
    const kept = labels.filter((l) => l.score > mean);
    outputs.preferences = writeOutput('preferences.json', kept);
    metrics.kept = kept.length;
    metrics.total = labels.length;
    break;
  }
  case 'criticTrain': {
    const { accuracy } = readJson('critic');
    const pseudo = readJson('pseudo');
    const next = Math.min(0.95, accuracy + Number(params.criticGain ?? 0.01) * Math.log2(1 + pseudo.length / 8));
    outputs.critic = writeOutput('critic.json', { accuracy: Number(next.toFixed(6)) });
    metrics.lossFinal = Number((1 - next).toFixed(6));
    break;
  }
  case 'validate': {
    const { accuracy } = readJson('critic');
    metrics.agreementPairwise = accuracy;
    metrics.agreementPointwise = Math.min(1, accuracy + 0.04);
    outputs.report = writeOutput('validation.json', { agreementPairwise: accuracy });
    break;
  }
  case 'generatorTrain': {
    const { quality } = readJson('generator');
    const preferences = readJson('preferences');
    const gain = Number(params.gain ?? 1.5) * Math.min(1, preferences.length / 8);
    const losses = Array.from({ length: 20 }, (_, i) => Number((0.69 * Math.exp(-i / 15) + 0.01 * unit(`${seed}/loss${i}`)).toFixed(6)));
    outputs.generator = writeOutput('generator.json', { quality: Number((quality + gain).toFixed(6)) });
    outputs.losses = writeOutput('losses.json', losses);
    Object.assign(metrics, { lossFirst: losses[0], lossFinal: losses.at(-1), lossMax: Math.max(...losses), nanCount: 0 });
    break;
  }
  case 'evaluate': {
    const { quality } = readJson('generator');
    Object.assign(metrics, { total: quality, quality: quality + 1, semantic: quality - 4 });
    outputs.scores = writeOutput('scores.json', metrics);
    break;
  }
  default:
    console.error(`stage-job.mjs does not know stage "${stage}"`);
    process.exit(2);
}

writeFileSync(`${request.resultFile}.tmp`, JSON.stringify({ outputs, metrics }, null, 2));
renameSync(`${request.resultFile}.tmp`, request.resultFile);
