// A paper-scale campaign simulated on this machine (issue #20 item 5): a real `dual-ipo` campaign
// (the product's round workflow, sharded sample/label/evaluate through the command backend) over a
// fleet of `dual-ipo worker` processes, each stage's GPU work replaced by a sleep of its modelled
// cost scaled down in time (examples/jobs/sleep-job.mjs), while a random worker is SIGKILLed and
// restarted every few minutes and the Temporal dev server (SQLite file) is killed and restarted once
// mid-round. Reports wall time against the ideal, shards retried, job starts against jobs, and
// history sizes. Also the throughput bench: the same shards over 1, 2, 4 and 8 single-slot workers.
//
//   npm run simulate-fleet -- [--rounds 3 --prompts 10000 --workers 16 --slots 8 ...]   (--help)
//   npm run bench -- --only fleet        a scaled-down run (1 round, 400 prompts, 4 workers)
//   npm run bench -- --only throughput
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { parseConfig } from '../config/load';
import type { CampaignConfig } from '../config/schema';
import { readStatus, startOrAttach } from '../lib/campaign/client';
import { ensureDevServer, stopDevServer, type DevServer } from '../lib/temporal/dev-server';
import { freePort } from '../lib/free-port';
import { refinementWorkflowId, roundWorkflowId, shardWorkflowId, type CampaignResult } from '../workflows/definitions';
import { historySize, type Size } from './shards';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'dual-ipo.mjs');
export const SLEEP_JOB = join(ROOT, 'examples', 'jobs', 'sleep-job.mjs');
const STAGES = ['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'] as const;

/**
 * Modelled GPU cost, in seconds of one GPU slot, before the time scale. Per video for sample and
 * label, per evaluation prompt for evaluate (5 videos sampled and scored), per job for the rest,
 * which stand for multi-GPU jobs holding the whole fleet (training data-parallel over every slot),
 * so their ideal time is their own duration.
 */
export const COSTS = {
  sampleVideo: 90, // a CogVideoX-2B video, 50 steps
  labelVideo: 20, // the CoT critic, 5 reasoning paths over 16 frames
  evaluatePrompt: 500, // 5 videos sampled and scored
  bootstrap: 1800,
  pceFilter: 300,
  criticTrain: 7200,
  validate: 600,
  generatorTrain: 14_400, // e.g. 1,200 steps x 12 s on the fleet
};

export interface FleetOptions {
  rounds: number;
  prompts: number;
  candidates: number;
  evalPrompts: number;
  workers: number;
  slots: number;
  /** Simulated seconds per wall second (300: an hour of GPU time takes 12 s). */
  timeScale: number;
  sampleShard: number;
  labelShard: number;
  evaluateShard: number;
  /** Wall seconds between worker SIGKILLs (0: none). */
  killEvery: number;
  /** Kill and restart the Temporal server once, in the middle round's sample stage. */
  serverRestart: boolean;
  serverDownSeconds: number;
  heartbeatTimeout: string;
  seed: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export const FULL_SCALE: FleetOptions = {
  rounds: 3,
  prompts: 10_000,
  candidates: 8,
  evalPrompts: 1000,
  workers: 16,
  slots: 8,
  timeScale: 300,
  sampleShard: 40,
  labelShard: 80,
  evaluateShard: 8,
  killEvery: 60,
  serverRestart: true,
  serverDownSeconds: 5,
  heartbeatTimeout: '20s',
  seed: 1,
};

export const SMALL_SCALE: FleetOptions = { ...FULL_SCALE, rounds: 1, prompts: 400, evalPrompts: 64, workers: 4, slots: 8, timeScale: 600, sampleShard: 4, labelShard: 16, evaluateShard: 2, killEvery: 20 };

/** The campaign: every stage the sleep job on the fleet's queue; sample, label and evaluate sharded. */
export function fleetConfig(id: string, o: Pick<FleetOptions, 'rounds' | 'prompts' | 'candidates' | 'evalPrompts' | 'workers' | 'slots' | 'timeScale' | 'sampleShard' | 'labelShard' | 'evaluateShard' | 'heartbeatTimeout'>, root: string, queues: { orchestration: string; gpu: string }): CampaignConfig {
  const scaled = (s: number) => s / o.timeScale;
  const perItem: Record<string, number> = { sample: COSTS.sampleVideo, label: COSTS.labelVideo, evaluate: COSTS.evaluatePrompt };
  const shardSize: Record<string, number> = { sample: o.sampleShard, label: o.labelShard, evaluate: o.evaluateShard };
  const stages = Object.fromEntries(
    STAGES.map((s) => [
      s,
      {
        backend: 'command',
        command: ['node', SLEEP_JOB],
        taskQueue: queues.gpu,
        heartbeatTimeout: o.heartbeatTimeout,
        maxAttempts: 20,
        params: {
          ...(perItem[s] !== undefined ? { secondsPerItem: scaled(perItem[s]!) } : { seconds: scaled(COSTS[s as keyof typeof COSTS]) }),
          // The job checks its inputs' coverage against these (not every stage's own params carry them).
          promptsPerRound: o.prompts,
          candidatesPerPrompt: o.candidates,
          evalPrompts: o.evalPrompts,
        },
        ...(shardSize[s] !== undefined ? { shardSize: shardSize[s], maxParallel: o.workers * o.slots } : {}),
      },
    ]),
  );
  return parseConfig({
    campaign: { id, maxRounds: o.rounds, criticRefinement: 'every-round' },
    generation: { promptsPerRound: o.prompts, candidatesPerPrompt: o.candidates, evalPrompts: o.evalPrompts },
    artifacts: { root },
    temporal: { taskQueue: queues.orchestration },
    stages,
  });
}

/** `dual-ipo worker` processes on one dev server, sharing one jobs folder (one host). */
export class Fleet {
  readonly workers: Array<ChildProcess | undefined> = [];
  kills = 0;
  constructor(
    readonly address: string,
    readonly dir: string,
    readonly queues: string,
    readonly orchestrationQueue: string,
  ) {}

  /** Worker i stands for a host of its own: its own slot leases (its GPUs), the shared jobs folder. */
  start(i: number, queues = this.queues): ChildProcess {
    const log = openSync(join(this.dir, 'logs', `worker-${i}.log`), 'a');
    const child = spawn(process.execPath, [BIN, 'worker', '--queues', queues, '--orchestration-queue', this.orchestrationQueue, '--jobs-dir', join(this.dir, 'jobs'), '--slots-dir', join(this.dir, 'slots', `worker-${i}`)], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: 'default', DUAL_IPO_DATA_DIR: join(this.dir, 'data') },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.workers[i] = child;
    return child;
  }

  /** Resolves once every started worker has logged that it serves its queues. */
  async ready(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = this.workers.filter((w, i) => w && !readFileSync(join(this.dir, 'logs', `worker-${i}.log`), 'utf8').includes(`worker ${w.pid} serving`));
      if (waiting.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${waiting.length} workers did not start within ${timeoutMs / 1000} s (logs in ${this.dir}/logs)`);
      await sleep(250);
    }
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const w = this.workers[i];
    if (!w || w.exitCode !== null || w.signalCode !== null) return;
    const exited = new Promise((r) => w.once('exit', r));
    w.kill(signal);
    await exited;
    this.kills += signal === 'SIGKILL' ? 1 : 0;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.kill(i, 'SIGKILL')));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small deterministic generator, so a run's kill schedule is reproducible from --seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Busy share of all CPUs between two /proc/stat readings. */
function cpuTimes(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = fields.map(Number);
  const idle = n[3]! + (n[4] ?? 0);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** The campaign's result, riding out server outages. */
async function outcome(client: Client, id: string): Promise<CampaignResult> {
  for (;;) {
    try {
      return (await client.workflow.getHandle(id).result()) as CampaignResult;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw err;
      await sleep(1000);
    }
  }
}

async function walk(dir: string, name: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String).filter((f) => f === name || f.endsWith(`/${name}`));
}

interface StageWork {
  folder: string;
  shards: number;
  workSeconds: number;
  /** work / slots for a sharded stage, the job's own duration otherwise */
  idealSeconds: number;
  attempts: number;
  retried: number;
  /** the stage's wall time as the round manifest records it (rounds 1 and later) */
  wallSeconds?: number;
}

/** What ran, from the committed results in the store: each stage's modelled work and its ideal time. */
export async function stageWork(artifacts: string, id: string, slots: number, scale: number): Promise<StageWork[]> {
  const base = join(artifacts, 'campaigns', id);
  const out: StageWork[] = [];
  for (const round of (await readdir(base)).filter((d) => d.startsWith('round-')).sort()) {
    const manifestPath = join(base, round, 'manifest.json');
    const timings = existsSync(manifestPath) ? (JSON.parse(await readFile(manifestPath, 'utf8')) as { stages: Array<{ stage: string; step?: string; seconds: number }> }).stages : [];
    const wall = (folder: string) => timings.find((t) => (t.step ? `${t.stage}-${t.step}` : t.stage) === folder)?.seconds;
    for (const folder of (await readdir(join(base, round))).sort()) {
      const dir = join(base, round, folder);
      if (!existsSync(join(dir, 'result.json'))) continue;
      const ledgerPath = join(dir, 'shards.json');
      if (existsSync(ledgerPath)) {
        const ledger = JSON.parse(await readFile(ledgerPath, 'utf8')) as { shards: Array<{ attempt: number | null; metrics: Record<string, number> }> };
        const work = ledger.shards.reduce((a, s) => a + (s.metrics.workSeconds ?? 0), 0);
        out.push({ folder: `${round}/${folder}`, shards: ledger.shards.length, workSeconds: work * scale, idealSeconds: work / slots, attempts: ledger.shards.reduce((a, s) => a + (s.attempt ?? 1), 0), retried: ledger.shards.filter((s) => (s.attempt ?? 1) > 1).length, ...(wall(folder) !== undefined ? { wallSeconds: wall(folder) } : {}) });
      } else {
        const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as { metrics: Record<string, number> };
        const work = result.metrics.workSeconds ?? 0;
        out.push({ folder: `${round}/${folder}`, shards: 0, workSeconds: work * scale, idealSeconds: work, attempts: 0, retried: 0, ...(wall(folder) !== undefined ? { wallSeconds: wall(folder) } : {}) });
      }
    }
  }
  return out;
}

/** Job starts per job folder (sleep-job.mjs appends a line to runs.log per start). */
export async function jobStarts(jobsDir: string): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  for (const f of await walk(jobsDir, 'runs.log')) {
    if (f.includes('.superseded-')) continue;
    starts.set(dirname(f), (await readFile(join(jobsDir, f), 'utf8')).split('\n').filter(Boolean).length);
  }
  return starts;
}

/** Every round's labels cover each prompt exactly `candidates` times, its preferences each prompt once. */
export async function checkCoverage(artifacts: string, id: string, prompts: number, candidates: number): Promise<string[]> {
  const problems: string[] = [];
  const base = join(artifacts, 'campaigns', id);
  const read = async (uri: string) => JSON.parse(await readFile(fileURLToPath(uri), 'utf8'));
  for (const round of (await readdir(base)).filter((d) => d.startsWith('round-') && d !== 'round-0000').sort()) {
    for (const folder of ['label', 'label-relabel']) {
      const path = join(base, round, folder, 'result.json');
      if (!existsSync(path)) continue;
      const manifest = await read((JSON.parse(await readFile(path, 'utf8')) as { outputs: Record<string, { uri: string }> }).outputs.labels!.uri);
      const counts = new Map<string, number>();
      for (const s of manifest.shards) for (const l of await read(s.ref.uri)) counts.set(`${l.prompt}/${l.candidate}`, (counts.get(`${l.prompt}/${l.candidate}`) ?? 0) + 1);
      const wrong = [...counts.values()].filter((n) => n !== 1).length;
      if (counts.size !== prompts * candidates || wrong > 0) problems.push(`${round}/${folder}: ${counts.size} distinct videos labelled (expected ${prompts * candidates}), ${wrong} labelled more than once`);
    }
    const pce = join(base, round, 'pceFilter', 'result.json');
    if (existsSync(pce)) {
      const pairs = (await read((JSON.parse(await readFile(pce, 'utf8')) as { outputs: Record<string, { uri: string }> }).outputs.preferences!.uri)) as Array<{ prompt: number }>;
      const distinct = new Set(pairs.map((p) => p.prompt)).size;
      if (pairs.length !== prompts || distinct !== prompts) problems.push(`${round}/pceFilter: ${pairs.length} pairs over ${distinct} prompts (expected ${prompts})`);
    }
  }
  return problems;
}

export interface FleetReport {
  options: Omit<FleetOptions, 'log'>;
  campaignId: string;
  rounds: number;
  wallSeconds: number;
  idealSeconds: number;
  /** wall / ideal - 1 */
  overWall: number;
  simulatedHours: number;
  shards: number;
  shardAttempts: number;
  shardsRetried: number;
  jobs: number;
  jobStarts: number;
  jobsStartedTwice: number;
  workerKills: number;
  serverRestart?: { atSecond: number; downSeconds: number; round: number; stage: string };
  coverageProblems: string[];
  cpuBusy: number;
  cpuBusyMax30s: number;
  loadAverageMax: number;
  history: Record<string, Size>;
  stages: StageWork[];
}

export async function simulateFleet(o: FleetOptions): Promise<FleetReport> {
  const log = o.log ?? (() => {});
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'dual-ipo-fleet-')));
  await mkdir(join(dir, 'logs'), { recursive: true });
  const serverOpts = { dataDir: join(dir, 'data'), port: await freePort(), uiPort: await freePort(), timeoutMs: 120_000 };
  let server: DevServer = await ensureDevServer(serverOpts);
  log(`dev server ${server.address} (db ${server.dbFile}); work in ${dir}`);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const queues = { orchestration: 'fleet-orch', gpu: 'fleet-gpu' };
  const fleet = new Fleet(server.address, dir, `${queues.gpu}:${o.slots}`, queues.orchestration);
  const id = `fleet-${o.rounds}x${o.prompts}x${o.candidates}-${o.workers}w${o.slots}s`;
  const artifacts = join(dir, 'artifacts');
  const cpu0 = cpuTimes();
  let cpuMax = 0;
  let loadMax = 0;
  let stopChaos = false;
  let restart: FleetReport['serverRestart'];
  try {
    // Worker `workers` is the orchestration worker (workflows and bookkeeping); it is not killed.
    fleet.start(o.workers, queues.orchestration);
    for (let i = 0; i < o.workers; i++) fleet.start(i);
    await fleet.ready();
    log(`${o.workers} workers x ${o.slots} slots and one orchestration worker up`);
    const config = fleetConfig(id, o, artifacts, queues);
    const t0 = Date.now();
    await startOrAttach(client, config);
    const random = rng(o.seed);
    const midRound = Math.ceil(o.rounds / 2);
    let lastCpu = cpuTimes();
    let lastKill = Date.now();
    let lastLine = 0;
    let lastPoll = 0;
    const chaos = (async () => {
      while (!stopChaos) {
        await sleep(1000);
        const now = Date.now();
        if (o.killEvery > 0 && now - lastKill >= o.killEvery * 1000) {
          lastKill = now;
          const victim = Math.floor(random() * o.workers);
          await fleet.kill(victim);
          fleet.start(victim);
        }
        if (now - lastPoll < 5000) continue;
        lastPoll = now;
        const s = await readStatus(client, id).catch(() => undefined);
        if (now - lastLine >= 30_000) {
          const c = cpuTimes();
          cpuMax = Math.max(cpuMax, (c.busy - lastCpu.busy) / (c.total - lastCpu.total));
          lastCpu = c;
          loadMax = Math.max(loadMax, loadavg()[0]!);
          lastLine = now;
          const sh = s?.shards;
          log(`${Math.round((now - t0) / 1000)} s: round ${s?.status?.round ?? '?'} ${s?.round?.stage ?? s?.status?.stage ?? ''}${sh ? ` shards ${sh.done}/${sh.shards} (${sh.running} running, ${sh.retried} retried)` : ''}; ${fleet.kills} kills; load ${loadavg()[0]!.toFixed(1)}`);
        }
        if (o.serverRestart && !restart && s?.status?.round === midRound && s.shards?.stage === 'sample' && s.shards.done > 0) {
          const at = (Date.now() - t0) / 1000;
          log(`${Math.round(at)} s: SIGKILL the Temporal server in round ${midRound} (sample ${s.shards.done}/${s.shards.shards} shards done)`);
          process.kill(server.pid!, 'SIGKILL');
          await sleep(o.serverDownSeconds * 1000);
          server = await ensureDevServer(serverOpts);
          const down = (Date.now() - t0) / 1000 - at;
          log(`Temporal server back after ${down.toFixed(1)} s (pid ${server.pid})`);
          restart = { atSecond: at, downSeconds: down, round: midRound, stage: 'sample' };
        }
      }
    })();
    let result: CampaignResult;
    try {
      result = await outcome(client, id);
    } finally {
      stopChaos = true;
      await chaos;
    }
    const description = await client.workflow.getHandle(id).describe();
    const wallSeconds = ((description.closeTime?.getTime() ?? Date.now()) - description.startTime.getTime()) / 1000;
    const cpu1 = cpuTimes();
    const stages = await stageWork(artifacts, id, o.workers * o.slots, o.timeScale);
    const idealSeconds = stages.reduce((a, s) => a + s.idealSeconds, 0);
    const starts = await jobStarts(join(dir, 'jobs'));
    const history: Record<string, Size> = {};
    for (let r = 0; r <= result.rounds; r++) {
      const ids = r === 0 ? [] : [roundWorkflowId(id, r), refinementWorkflowId(id, r)];
      for (const label of ['sample', 'label', 'label-relabel', 'evaluate']) ids.push(shardWorkflowId(id, r, label));
      for (const wid of ids) {
        const size = await historySize(client, wid).catch(() => undefined);
        if (size) history[wid.slice(id.length + 1)] = size;
      }
    }
    history.campaign = await historySize(client, id);
    const sharded = stages.filter((s) => s.shards > 0);
    const report: FleetReport = {
      options: { ...o, log: undefined } as Omit<FleetOptions, 'log'>,
      campaignId: id,
      rounds: result.rounds,
      wallSeconds,
      idealSeconds,
      overWall: wallSeconds / idealSeconds - 1,
      simulatedHours: (wallSeconds * o.timeScale) / 3600,
      shards: sharded.reduce((a, s) => a + s.shards, 0),
      shardAttempts: sharded.reduce((a, s) => a + s.attempts, 0),
      shardsRetried: sharded.reduce((a, s) => a + s.retried, 0),
      jobs: starts.size,
      jobStarts: [...starts.values()].reduce((a, b) => a + b, 0),
      jobsStartedTwice: [...starts.values()].filter((n) => n > 1).length,
      workerKills: fleet.kills,
      ...(restart ? { serverRestart: restart } : {}),
      coverageProblems: await checkCoverage(artifacts, id, o.prompts, o.candidates),
      cpuBusy: (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total),
      cpuBusyMax30s: cpuMax,
      loadAverageMax: loadMax,
      history,
      stages,
    };
    await writeFile(join(dir, 'fleet-report.json'), JSON.stringify(report, null, 2));
    return report;
  } finally {
    stopChaos = true;
    await fleet.stopAll();
    await connection.close().catch(() => undefined);
    await stopDevServer({ dataDir: serverOpts.dataDir });
    if (!o.keep && !o.dir) await rm(dir, { recursive: true, force: true });
  }
}

export function formatFleetReport(r: FleetReport): string {
  const o = r.options;
  const sizes = Object.entries(r.history).map(([k, v]) => `  ${k.padEnd(34)} ${String(v.events).padStart(7)} events ${String(v.bytes).padStart(11)} B ${v.runs} run(s)`);
  return [
    `campaign ${r.campaignId}: ${r.rounds} rounds x ${o.prompts} prompts x ${o.candidates} candidates on ${o.workers} workers x ${o.slots} slots, time scale 1/${o.timeScale}`,
    `wall ${r.wallSeconds.toFixed(0)} s against an ideal of ${r.idealSeconds.toFixed(0)} s: ${(100 * r.overWall).toFixed(1)}% over (${r.simulatedHours.toFixed(1)} simulated hours)`,
    `shards ${r.shards}, activity attempts ${r.shardAttempts}, shards retried ${r.shardsRetried}`,
    `jobs ${r.jobs}, job starts ${r.jobStarts}, jobs started more than once ${r.jobsStartedTwice}`,
    `worker SIGKILLs ${r.workerKills}; Temporal server ${r.serverRestart ? `killed at ${r.serverRestart.atSecond.toFixed(0)} s (round ${r.serverRestart.round}, ${r.serverRestart.stage}), back after ${r.serverRestart.downSeconds.toFixed(1)} s` : 'not restarted'}`,
    `coverage: ${r.coverageProblems.length === 0 ? 'every prompt sampled and labelled once per candidate, one pair per prompt, in every round' : r.coverageProblems.join('; ')}`,
    `CPU busy ${(100 * r.cpuBusy).toFixed(0)}% (max over 30 s ${(100 * r.cpuBusyMax30s).toFixed(0)}%), load average max ${r.loadAverageMax.toFixed(1)}`,
    'stages (wall against ideal, seconds):',
    ...r.stages.map((s) => `  ${s.folder.padEnd(28)} ${s.wallSeconds !== undefined ? s.wallSeconds.toFixed(1).padStart(7) : '      -'} / ${s.idealSeconds.toFixed(1).padStart(6)}${s.shards ? `  ${s.shards} shards, ${s.retried} retried` : ''}`),
    'history sizes:',
    ...sizes,
  ].join('\n');
}

/** Shard throughput over 1, 2, 4 and 8 single-slot workers: one round whose sample stage holds the work. */
export async function benchThroughput(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-throughput-'));
  await mkdir(join(dir, 'logs'), { recursive: true });
  const serverOpts = { dataDir: join(dir, 'data'), port: await freePort(), uiPort: await freePort() };
  const server = await ensureDevServer(serverOpts);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const shards = opts.quick ? 24 : 48;
  const shardSeconds = opts.quick ? 2 : 4;
  const figures: Record<string, number> = {};
  let base: number | undefined;
  try {
    for (const n of [1, 2, 4, 8]) {
      const queues = { orchestration: `tp-orch-${n}`, gpu: `tp-gpu-${n}` };
      const fleet = new Fleet(server.address, dir, `${queues.gpu}:1`, queues.orchestration);
      fleet.start(n, queues.orchestration);
      for (let i = 0; i < n; i++) fleet.start(i);
      try {
        await fleet.ready();
        const id = `throughput-${n}`;
        // Only the sample shards carry work (each shardSeconds, one prompt of one "video"); the rest is instant.
        const config = fleetConfig(id, { rounds: 1, prompts: shards, candidates: 2, evalPrompts: 1, workers: n, slots: 1, timeScale: 1, sampleShard: 1, labelShard: shards, evaluateShard: 1, heartbeatTimeout: '20s' }, join(dir, 'artifacts'), queues);
        for (const s of STAGES) Object.assign(config.stages[s].params, { seconds: 0, secondsPerItem: 0, steps: 1 });
        Object.assign(config.stages.sample.params, { secondsPerItem: shardSeconds / 2, steps: 2 });
        config.campaign.criticRefinement = 'never';
        await startOrAttach(client, config);
        await outcome(client, id);
        const d = await client.workflow.getHandle(shardWorkflowId(id, 1, 'sample')).describe();
        const wall = ((d.closeTime?.getTime() ?? 0) - d.startTime.getTime()) / 1000;
        const ideal = (shards * shardSeconds) / n;
        base ??= wall;
        const speedUp = base / wall;
        log(`${n} worker(s) x 1 slot: ${shards} shards of ${shardSeconds} s in ${wall.toFixed(1)} s (ideal ${ideal.toFixed(1)} s): speed-up x${speedUp.toFixed(2)}, efficiency ${(speedUp / n).toFixed(2)}, overhead ${(((wall - ideal) * 1000) / shards).toFixed(0)} ms per shard`);
        Object.assign(figures, { [`wallSeconds${n}Workers`]: wall, [`speedUp${n}Workers`]: speedUp, [`efficiency${n}Workers`]: speedUp / n, [`overheadMsPerShard${n}Workers`]: ((wall - ideal) * 1000) / shards });
      } finally {
        await fleet.stopAll();
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
    await stopDevServer({ dataDir: serverOpts.dataDir });
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

const HELP = `Usage: npm run simulate-fleet -- [options]

A paper-scale Dual-IPO campaign simulated on this machine: the real campaign workflows, sharded
sample/label/evaluate stages through the command backend, each job a sleep of its modelled GPU cost
(examples/jobs/sleep-job.mjs) divided by the time scale, over worker processes of which a random one
is SIGKILLed and restarted every --kill-every seconds; the Temporal dev server is SIGKILLed and
restarted once in the middle round's sample stage. Prints wall time against the ideal, shards
retried, job starts and history sizes; writes fleet-report.json into the work folder.

Options (defaults: the issue's full scale):
  --rounds N            ${FULL_SCALE.rounds}
  --prompts N           prompts per round, ${FULL_SCALE.prompts}
  --candidates N        videos per prompt, ${FULL_SCALE.candidates}
  --eval-prompts N      ${FULL_SCALE.evalPrompts}
  --workers N           worker processes, ${FULL_SCALE.workers}
  --slots N             GPU slots per worker, ${FULL_SCALE.slots}
  --time-scale X        simulated seconds per wall second, ${FULL_SCALE.timeScale}
  --sample-shard N      prompts per shard, ${FULL_SCALE.sampleShard} (label ${FULL_SCALE.labelShard}, evaluate ${FULL_SCALE.evaluateShard}: --label-shard, --evaluate-shard)
  --kill-every S        wall seconds between worker SIGKILLs, ${FULL_SCALE.killEvery} (0: none)
  --no-server-restart   keep the Temporal server up
  --heartbeat-timeout D ${FULL_SCALE.heartbeatTimeout}
  --small               the scaled-down run: 1 round, 400 prompts, 4 workers (the bench's --only fleet)
  --dir DIR             work folder (kept); default a temporary one, removed unless --keep
  --seed N              the kill schedule's seed, ${FULL_SCALE.seed}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      prompts: { type: 'string' },
      candidates: { type: 'string' },
      'eval-prompts': { type: 'string' },
      workers: { type: 'string' },
      slots: { type: 'string' },
      'time-scale': { type: 'string' },
      'sample-shard': { type: 'string' },
      'label-shard': { type: 'string' },
      'evaluate-shard': { type: 'string' },
      'kill-every': { type: 'string' },
      'no-server-restart': { type: 'boolean' },
      'heartbeat-timeout': { type: 'string' },
      small: { type: 'boolean' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(HELP);
  const base = values.small ? SMALL_SCALE : FULL_SCALE;
  const num = (name: keyof typeof values, fallback: number) => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: "${String(v)}" is not a non-negative number`);
    return n;
  };
  const options: FleetOptions = {
    rounds: num('rounds', base.rounds),
    prompts: num('prompts', base.prompts),
    candidates: num('candidates', base.candidates),
    evalPrompts: num('eval-prompts', base.evalPrompts),
    workers: num('workers', base.workers),
    slots: num('slots', base.slots),
    timeScale: num('time-scale', base.timeScale),
    sampleShard: num('sample-shard', base.sampleShard),
    labelShard: num('label-shard', base.labelShard),
    evaluateShard: num('evaluate-shard', base.evaluateShard),
    killEvery: num('kill-every', base.killEvery),
    serverRestart: values['no-server-restart'] ? false : base.serverRestart,
    serverDownSeconds: base.serverDownSeconds,
    heartbeatTimeout: values['heartbeat-timeout'] ?? base.heartbeatTimeout,
    seed: num('seed', base.seed),
    ...(values.dir ? { dir: values.dir } : {}),
    keep: values.keep === true,
    log: (line) => console.error(line),
  };
  const report = await simulateFleet(options);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatFleetReport(report));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
