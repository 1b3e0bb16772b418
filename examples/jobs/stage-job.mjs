#!/usr/bin/env node
// Example job for the `command` backend (contract: docs/command-backend.md). One program serves
// every stage of a toy Dual-IPO world where a "generator" is a quality number and a "critic" an
// accuracy: deterministic, quick, and faithful to the data flow, so campaigns, gates, rollbacks
// and crash recovery can be exercised without models. Replace it with your own trainer.
//
// Reads the request (argv[2] or $DUAL_IPO_REQUEST), writes JSON progress lines with a resume
// checkpoint to $DUAL_IPO_CHANNEL (stdout when unset, as under contract @1), writes outputs into
// request.outputDir and the result file request.resultFile. On SIGTERM it reports its last checkpoint
// and exits 75. Params beside the toy world's: steps, stepDelayMs; protocol: "stdout" (the @1 way);
// chatty: DeepSpeed/torchrun-style log lines on stdout; checkpointFiles: a weights file per checkpoint
// in request.checkpointDir, checked on resume; folderOutputs: every output as a folder.
import { readFileSync, writeFileSync, renameSync, mkdirSync, appendFileSync, existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';

const requestPath = process.argv[2] ?? process.env.DUAL_IPO_REQUEST;
if (!requestPath) {
  console.error('usage: stage-job.mjs REQUEST.json (or set DUAL_IPO_REQUEST)');
  process.exit(2);
}
const request = JSON.parse(readFileSync(requestPath, 'utf8'));
if (!['dual-ipo/command-job@1', 'dual-ipo/command-job@2'].includes(request.contract)) {
  console.error(`unsupported contract ${request.contract}`);
  process.exit(2);
}
const { stage, params, inputs, outputDir } = request;
const steps = Number(params.steps ?? 5);
const delay = Number(params.stepDelayMs ?? 0);
const seed = `${params.seed ?? 0}/${request.round}/${stage}`;

// Runs of this job, for tests that check a job ran once (appended, never rewritten).
if (process.env.DUAL_IPO_JOB_DIR) appendFileSync(join(process.env.DUAL_IPO_JOB_DIR, 'runs.log'), `${process.pid}\n`);

const channel = params.protocol === 'stdout' ? undefined : process.env.DUAL_IPO_CHANNEL;
const emit = (message) => (channel ? appendFileSync(channel, `${JSON.stringify(message)}\n`) : process.stdout.write(`${JSON.stringify(message)}\n`));
const chatty = Boolean(params.chatty);
const say = (text) => chatty && process.stdout.write(`[2026-12-04 10:00:00,000] [INFO] [engine.py:123:${stage}] ${text}\n[rank0]: ${text}\n`);
// A folder input (a folder output of an earlier stage) holds its value in main.json.
const readJson = (name) => {
  const path = inputs[name].path;
  return JSON.parse(readFileSync(statSync(path).isDirectory() ? join(path, 'main.json') : path, 'utf8'));
};
const unit = (text) => parseInt(createHash('sha256').update(text).digest('hex').slice(0, 8), 16) / 0xffffffff;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeOutput(name, value) {
  if (params.folderOutputs) {
    const folder = name.replace(/\.[a-z]+$/, '');
    const tmp = join(outputDir, `.${folder}.tmp`);
    mkdirSync(join(tmp, 'extra'), { recursive: true });
    writeFileSync(join(tmp, 'main.json'), typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, null, 2));
    writeFileSync(join(tmp, 'extra', 'config.json'), JSON.stringify({ stage, name }));
    renameSync(tmp, join(outputDir, folder));
    return { path: folder };
  }
  const path = join(outputDir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  renameSync(`${path}.tmp`, path);
  return { path: name };
}

// The work happens in `steps` resumable steps; a restarted job skips the steps it finished.
const start = Number(request.checkpoint?.step ?? 0);
const weights = (step) => `weights for ${stage} after step ${step}\n`;
if (start > 0 && params.checkpointFiles) {
  // The checkpoint's file must be back in place, whichever host ran the step before.
  const file = join(request.checkpointDir, request.checkpoint.file ?? '');
  if (!request.checkpoint.file || !existsSync(file) || readFileSync(file, 'utf8') !== weights(start)) {
    console.error(`checkpoint file ${file} is missing or wrong`);
    process.exit(4);
  }
  emit({ type: 'log', message: `restored ${request.checkpoint.file} from the checkpoint` });
}
if (start > 0) emit({ type: 'log', message: `resuming ${stage} at step ${start}` });
say(`DeepSpeed info: version=0.16.0, git-hash=unknown, stage ${stage} starting at step ${start}`);
let reached = start;
const checkpointAt = (step) => {
  if (!params.checkpointFiles) return { checkpoint: { step } };
  const file = `step-${step}.bin`;
  mkdirSync(request.checkpointDir, { recursive: true });
  writeFileSync(join(request.checkpointDir, `.${file}.tmp`), weights(step));
  renameSync(join(request.checkpointDir, `.${file}.tmp`), join(request.checkpointDir, file));
  return { checkpoint: { step, file }, files: [file] };
};
process.on('SIGTERM', () => {
  // Stopped by a draining worker: the last finished step is the checkpoint; a retry resumes there.
  emit({ type: 'progress', done: reached, total: steps, message: `${stage} terminated at step ${reached}`, ...checkpointAt(reached) });
  console.error(`SIGTERM: checkpointed at step ${reached}, exiting 75`);
  process.exit(75);
});
for (let step = start; step < steps; step++) {
  await sleep(delay);
  reached = step + 1;
  say(`step=${step + 1}, skipped=0, lr=[1e-05], mom=[(0.9, 0.999)] loss=0.${(step % 9) + 1}`);
  emit({ type: 'progress', done: step + 1, total: steps, message: `${stage} step ${step + 1}/${steps}`, ...checkpointAt(step + 1) });
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
