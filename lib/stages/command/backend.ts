// The `command` backend: a stage runs as an external program (docs/command-backend.md).
// The job runs detached in its own process group with stdout/stderr going to files in a durable
// working folder, so it survives a worker crash; the next attempt re-attaches to it (still
// running), collects it (finished while nobody watched), or restarts it from its last checkpoint.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdir, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactRef } from '../../artifacts/types';
import { sha256Hex, stableStringify } from '../../artifacts/stable-json';
import { dataDir } from '../../paths';
import { keepsExternalWork, missingOutputs, type StageContext, type StageImpl, type StageOutput, type StageRequest } from '../contract';
import { resolveProgram } from './resolve';

export const CONTRACT = 'dual-ipo/command-job@1';
const POLL_MS = 200;

export interface CommandStageOptions {
  jobsDir?: string;
  killGraceMs?: number;
}

interface JobRecord {
  pid: number;
  argv: string[];
  nonce: string;
  startedAt: string;
  attempt: number;
  /** requestDigest of the request that started the job: its outcome answers only that request. */
  digest?: string;
}

/** A job whose result was refused leaves this file: its next start begins from scratch. */
const INVALID_MARKER = 'invalid-result.txt';

export class CommandJobError extends Error {
  override name = 'CommandJobError';
  constructor(
    message: string,
    readonly nonRetryable = false,
  ) {
    super(message);
  }
}

export function jobDir(jobsDir: string, ctx: Pick<StageContext, 'request'>): string {
  const { campaignId, round, stage, step, shard } = ctx.request;
  const folder = join(jobsDir, campaignId, `round-${String(round).padStart(4, '0')}`, step ? `${stage}-${step}` : stage);
  // Shards of one stage may run side by side on one worker: each needs its own job folder.
  return shard ? join(folder, 'shards', String(shard.index).padStart(5, '0')) : folder;
}

/** What makes two requests the same job: command, stage, step, round, inputs (by content) and params. */
export function requestDigest(request: StageRequest): string {
  const inputs = Object.fromEntries(Object.entries(request.inputs).map(([name, ref]) => [name, { sha256: ref.sha256, size: ref.size }]));
  const identity = { argv: request.command ?? [], campaignId: request.campaignId, round: request.round, stage: request.stage, step: request.step ?? null, inputs, params: request.params };
  return sha256Hex(stableStringify(identity));
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Our job, not a recycled pid: its environment carries the nonce we gave it. */
async function isOurJob(job: JobRecord): Promise<boolean> {
  if (!alive(job.pid)) return false;
  try {
    const environ = await readFile(`/proc/${job.pid}/environ`, 'utf8');
    return environ.includes(`DUAL_IPO_JOB_NONCE=${job.nonce}`);
  } catch {
    return true; // no /proc (macOS): trust the live process group
  }
}

async function killGroup(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function tail(path: string, maxBytes = 2000): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.length > maxBytes ? `…${text.slice(-maxBytes)}` : text;
  } catch {
    return '';
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Inputs become local files the job can open; a file:// input is verified and used in place. */
async function materialiseInputs(ctx: StageContext, dir: string): Promise<Record<string, ArtifactRef & { path: string }>> {
  const inputs: Record<string, ArtifactRef & { path: string }> = {};
  for (const [name, ref] of Object.entries(ctx.request.inputs)) {
    if (ref.uri.startsWith('file://')) {
      const path = fileURLToPath(ref.uri);
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new CommandJobError(`input "${name}" is missing: ${ref.uri}`, true);
      if (info.size !== ref.size) throw new CommandJobError(`input "${name}" (${ref.uri}) has ${info.size} B, its reference says ${ref.size} B`, true);
      const sha256 = await sha256File(path);
      if (sha256 !== ref.sha256) throw new CommandJobError(`input "${name}" (${ref.uri}) fails its sha256 check: found ${sha256}, its reference says ${ref.sha256}`, true);
      inputs[name] = { ...ref, path };
    } else {
      const path = join(dir, 'inputs', name);
      if (!existsSync(path)) await ctx.store.getToFile(ref, path);
      inputs[name] = { ...ref, path };
    }
  }
  return inputs;
}

interface Progress {
  done: number;
  total: number;
  lastCheckpoint: unknown;
  offset: number;
  lineNo: number;
  pending: string;
}

/** Reads new stdout protocol lines; any line that is not a protocol object is garbage. */
async function readProtocol(ctx: StageContext, stdoutPath: string, state: Progress, label: string): Promise<void> {
  const info = await stat(stdoutPath).catch(() => undefined);
  if (!info || info.size <= state.offset) return;
  const handle = await open(stdoutPath, 'r');
  try {
    const buffer = Buffer.alloc(info.size - state.offset);
    await handle.read(buffer, 0, buffer.length, state.offset);
    state.offset = info.size;
    const text = state.pending + buffer.toString('utf8');
    const lines = text.split('\n');
    state.pending = lines.pop() ?? '';
    for (const line of lines) {
      state.lineNo += 1;
      if (line.trim() === '') continue;
      let message: { type?: string; done?: number; total?: number; message?: string; checkpoint?: unknown };
      try {
        message = JSON.parse(line);
      } catch {
        throw new CommandJobError(`${label}: stdout line ${state.lineNo} is not a JSON protocol line: ${JSON.stringify(line.slice(0, 200))}`, true);
      }
      if (message?.type === 'progress' && typeof message.done === 'number' && typeof message.total === 'number') {
        if (message.checkpoint !== undefined) state.lastCheckpoint = message.checkpoint;
        state.done = message.done;
        state.total = message.total;
        await ctx.progress(message.done, message.total, message.checkpoint, message.message);
      } else if (message?.type === 'log') {
        ctx.log(String(message.message ?? ''), { job: label });
      } else {
        throw new CommandJobError(`${label}: stdout line ${state.lineNo} is not a progress or log message: ${JSON.stringify(line.slice(0, 200))}`, true);
      }
    }
  } finally {
    await handle.close();
  }
}

interface ResultFile {
  outputs?: Record<string, { path?: unknown; summary?: ArtifactRef['summary'] }>;
  metrics?: Record<string, unknown>;
}

/**
 * Python's json.dumps writes NaN and Infinity as bare tokens, which JSON does not allow. A diverged
 * trainer must reach the abnormal-loss gate, not fail on syntax, so those tokens are read as null.
 */
export function parseResult(text: string): ResultFile {
  try {
    return JSON.parse(text) as ResultFile;
  } catch (err) {
    const relaxed = text.replace(/(?<=[:,[]\s*)-?(?:NaN|Infinity)(?=\s*[,}\]])/g, 'null');
    if (relaxed === text) throw err;
    return JSON.parse(relaxed) as ResultFile;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads and checks the job's result before anything is published: the schema, the stage's required
 * outputs, and that every output is a regular file inside the output folder (no links, no way out
 * through a linked folder). Throws a non-retryable CommandJobError naming the first problem.
 */
async function readResult(ctx: StageContext, dir: string, outputDir: string, label: string): Promise<{ planned: Array<[string, string, ArtifactRef['summary']]>; metrics: Record<string, number> }> {
  const resultPath = join(dir, 'result.json');
  let parsed: unknown;
  try {
    parsed = parseResult(await readFile(resultPath, 'utf8'));
  } catch (err) {
    throw new CommandJobError(`${label}: exited 0 but its result file ${resultPath} is ${existsSync(resultPath) ? `not valid JSON (${(err as Error).message})` : 'missing'}`, true);
  }
  if (!isPlainObject(parsed)) throw new CommandJobError(`${label}: result file ${resultPath} is not a JSON object`, true);
  if (parsed.outputs !== undefined && !isPlainObject(parsed.outputs)) throw new CommandJobError(`${label}: result "outputs" is not an object of name -> { path, summary? }`, true);
  if (parsed.metrics !== undefined && !isPlainObject(parsed.metrics)) throw new CommandJobError(`${label}: result "metrics" is not an object of name -> number`, true);
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(parsed.metrics ?? {})) {
    // null stands for NaN/Infinity (see parseResult): kept as NaN so the runner counts it as non-finite.
    if (value === null) metrics[name] = Number.NaN;
    else if (typeof value === 'number') metrics[name] = value;
    else throw new CommandJobError(`${label}: result metric "${name}" is not a number (${JSON.stringify(value)})`, true);
  }
  const outputs = (parsed.outputs ?? {}) as Record<string, unknown>;
  const missing = missingOutputs(ctx.request.stage, outputs);
  if (missing.length > 0) {
    throw new CommandJobError(`${label}: result lacks the output${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} that stage ${ctx.request.stage} must return (got: ${Object.keys(outputs).join(', ') || 'none'})`, true);
  }
  const realOutputDir = await realpath(outputDir);
  const planned: Array<[string, string, ArtifactRef['summary']]> = [];
  for (const [name, out] of Object.entries(outputs)) {
    if (!isPlainObject(out) || typeof out.path !== 'string') throw new CommandJobError(`${label}: result output "${name}" has no "path"`, true);
    if (out.summary !== undefined && !isPlainObject(out.summary)) throw new CommandJobError(`${label}: result output "${name}" has a "summary" that is not an object`, true);
    const path = resolve(outputDir, out.path);
    const rel = relative(outputDir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new CommandJobError(`${label}: result output "${name}" path "${out.path}" escapes the output folder`, true);
    const info = await lstat(path).catch(() => undefined);
    if (!info) throw new CommandJobError(`${label}: result output "${name}" file ${path} does not exist`, true);
    // A link (or a file reached through a linked folder) would publish whatever it points at.
    if (info.isSymbolicLink()) throw new CommandJobError(`${label}: result output "${name}" file ${path} is a symbolic link; outputs must be regular files`, true);
    if (!info.isFile()) throw new CommandJobError(`${label}: result output "${name}" ${path} is not a regular file`, true);
    const realRel = relative(realOutputDir, await realpath(path));
    if (realRel.startsWith('..') || isAbsolute(realRel)) throw new CommandJobError(`${label}: result output "${name}" path "${out.path}" leads out of the output folder through a link`, true);
    planned.push([name, path, out.summary as ArtifactRef['summary']]);
  }
  return { planned, metrics };
}

async function collectResult(ctx: StageContext, dir: string, outputDir: string, label: string): Promise<StageOutput> {
  // Validate everything before publishing anything: a bad result leaves the store untouched.
  const { planned, metrics } = await readResult(ctx, dir, outputDir, label);
  const outputs: Record<string, ArtifactRef> = {};
  for (const [name, path, summary] of planned) outputs[name] = await ctx.store.putFile(ctx.outputKey(name), path, summary ? { summary } : undefined);
  return { outputs, metrics };
}

/** Moves a job's files out of the way (logs are kept) so the next start begins afresh. */
async function setAside(dir: string, folder: string, files: string[]): Promise<void> {
  const aside = join(dir, folder);
  await mkdir(aside, { recursive: true });
  for (const f of files) if (existsSync(join(dir, f))) await rename(join(dir, f), join(aside, f));
}

export function commandStage(options: CommandStageOptions = {}): StageImpl {
  const jobsDir = options.jobsDir ?? join(dataDir(), 'jobs');
  const graceMs = options.killGraceMs ?? 10_000;

  return async (ctx) => {
    const argv = ctx.request.command;
    if (!argv || argv.length === 0) throw new CommandJobError(`stage ${ctx.request.stage} uses backend "command" but has no command`, true);
    const digest = requestDigest(ctx.request);
    const label = `job ${JSON.stringify(argv.join(' '))} (stage ${ctx.request.stage}${ctx.request.step ? `-${ctx.request.step}` : ''}, round ${ctx.request.round})`;
    const dir = jobDir(jobsDir, ctx);
    const outputDir = join(dir, 'out');
    const stdoutPath = join(dir, 'stdout.jsonl');
    const stderrPath = join(dir, 'stderr.log');
    const exitPath = join(dir, 'exit_code');
    const jobPath = join(dir, 'job.json');

    const state: Progress = { done: 0, total: 1, lastCheckpoint: ctx.checkpoint ?? null, offset: 0, lineNo: 0, pending: '' };
    let job: JobRecord | undefined = existsSync(jobPath) ? (JSON.parse(await readFile(jobPath, 'utf8')) as JobRecord) : undefined;
    // A job folder answers only the request that started it (a record from before digests: its argv).
    if (job && (job.digest ?? null) !== digest && (job.digest !== undefined || JSON.stringify(job.argv) !== JSON.stringify(argv))) {
      if (await isOurJob(job)) await killGroup(job.pid, graceMs);
      const superseded = `${dir}.superseded-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(dir, superseded);
      ctx.log(`${label}: the job folder held a different request or command; moved it aside and starting afresh`, { superseded });
      job = undefined;
      // Its checkpoint (heartbeat details, store) belongs to the other job.
      state.lastCheckpoint = null;
    }
    await mkdir(outputDir, { recursive: true });
    if (existsSync(join(dir, INVALID_MARKER))) state.lastCheckpoint = null;
    const exitCode = existsSync(exitPath) ? Number((await readFile(exitPath, 'utf8')).trim()) : undefined;
    // A job that finished successfully while nobody watched is collected; a failed one is rerun.
    const finishedUnwatched = job !== undefined && exitCode === 0;
    const running = job !== undefined && exitCode === undefined && (await isOurJob(job));

    if (job && !finishedUnwatched && !running) {
      // The job died with its worker: keep its logs, replay its progress to learn the last
      // checkpoint, and start it again from there.
      if (!existsSync(join(dir, INVALID_MARKER))) await readProtocol(ctx, stdoutPath, state, label).catch(() => undefined);
      await setAside(dir, `attempt-${job.attempt}`, ['stdout.jsonl', 'stderr.log', 'job.json']);
      Object.assign(state, { offset: 0, lineNo: 0, pending: '' });
    }

    if (!finishedUnwatched && !running) {
      if (!resolveProgram(argv[0]!)) {
        throw new CommandJobError(`${label}: command "${argv[0]}" not found (not on PATH, and no executable file of that name relative to ${process.cwd()})`, true);
      }
      const inputs = await materialiseInputs(ctx, dir);
      await rm(exitPath, { force: true });
      await rm(join(dir, 'result.json'), { force: true });
      const request = {
        contract: CONTRACT,
        campaignId: ctx.request.campaignId,
        round: ctx.request.round,
        stage: ctx.request.stage,
        step: ctx.request.step ?? null,
        ...(ctx.request.shard ? { shard: ctx.request.shard } : {}),
        inputs,
        params: ctx.request.params,
        outputDir,
        resultFile: join(dir, 'result.json'),
        checkpoint: state.lastCheckpoint ?? null,
      };
      const requestPath = join(dir, 'request.json');
      await writeFile(`${requestPath}.tmp`, JSON.stringify(request, null, 2));
      await rename(`${requestPath}.tmp`, requestPath);
      const nonce = randomBytes(8).toString('hex');
      // sh records the exit code even when nobody waits for the job any more.
      const script = '"$@" >"$DUAL_IPO_JOB_DIR/stdout.jsonl" 2>"$DUAL_IPO_JOB_DIR/stderr.log"; echo $? >"$DUAL_IPO_JOB_DIR/exit_code.tmp"; mv "$DUAL_IPO_JOB_DIR/exit_code.tmp" "$DUAL_IPO_JOB_DIR/exit_code"';
      const child = spawn('/bin/sh', ['-c', script, 'sh', ...argv], {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, DUAL_IPO_REQUEST: requestPath, DUAL_IPO_JOB_DIR: dir, DUAL_IPO_JOB_NONCE: nonce },
      });
      child.unref();
      job = { pid: child.pid!, argv, nonce, startedAt: new Date().toISOString(), attempt: (job?.attempt ?? 0) + 1, digest };
      await writeFile(`${jobPath}.tmp`, JSON.stringify(job, null, 2));
      await rename(`${jobPath}.tmp`, jobPath);
      await rm(join(dir, INVALID_MARKER), { force: true });
      ctx.log(`started ${label}`, { pid: job.pid, attempt: job.attempt, resumeFrom: state.lastCheckpoint });
    } else if (running) {
      ctx.log(`re-attached to ${label}`, { pid: job!.pid });
    }

    const pid = job!.pid;
    let lastBeat = Date.now();
    try {
      for (;;) {
        // Cancellation reaches an activity only through heartbeats: keep beating while the job is quiet.
        if (Date.now() - lastBeat > 5_000) {
          await ctx.progress(state.done, state.total);
          lastBeat = Date.now();
        }
        if (keepsExternalWork(ctx.signal)) {
          // Contact with the server was lost, nobody asked us to stop: the job keeps running and
          // the next attempt re-attaches to it by pid and nonce.
          throw new CommandJobError(`${label}: left running (pid ${pid}) for the next attempt: ${(ctx.signal.reason as Error).message}`);
        }
        if (ctx.signal.aborted) {
          await killGroup(pid, graceMs);
          throw new CommandJobError(`${label}: cancelled; the job's process group was stopped`);
        }
        await readProtocol(ctx, stdoutPath, state, label);
        if (existsSync(exitPath)) break;
        if (!alive(pid)) {
          // The shell is gone without an exit code (killed): nothing more will come.
          await new Promise((r) => setTimeout(r, POLL_MS));
          if (existsSync(exitPath)) break;
          throw new CommandJobError(`${label}: the job's process group ended without an exit code (killed?); stderr:\n${await tail(stderrPath)}`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      await readProtocol(ctx, stdoutPath, state, label);
    } catch (err) {
      if (err instanceof CommandJobError && err.nonRetryable) await killGroup(pid, graceMs);
      throw err;
    }

    const code = Number((await readFile(exitPath, 'utf8')).trim());
    if (code !== 0) {
      throw new CommandJobError(`${label} exited with code ${code}; stderr:\n${await tail(stderrPath)}`, false);
    }
    try {
      return await collectResult(ctx, dir, outputDir, label);
    } catch (err) {
      if (err instanceof CommandJobError) {
        // Never reuse a refused result: the next attempt (after a fix, or a `run` again) runs the job anew.
        await setAside(dir, `attempt-${job!.attempt}`, ['stdout.jsonl', 'stderr.log', 'result.json', 'exit_code']);
        await writeFile(join(dir, INVALID_MARKER), `${err.message}\n`);
      }
      throw err;
    }
  };
}
