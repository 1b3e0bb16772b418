// The `command` backend: a stage runs as an external program (docs/command-backend.md).
// The job runs detached in its own process group with stdout/stderr going to log files in a durable
// working folder and its protocol lines to a channel file, so it survives a worker crash; the next
// attempt re-attaches to it (still running), collects it (finished while nobody watched), or restarts
// it from its last checkpoint (whose files come back from the artifact store on any host).
// The parts: channel.ts (protocol), outputs.ts (result, file and folder outputs), inputs-cache.ts,
// checkpoint-files.ts, slots.ts (slots and GPUs), env.ts (the job's environment), process.ts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex, stableStringify } from '../../artifacts/stable-json';
import { dataDir } from '../../paths';
import { keepsExternalWork, type StageContext, type StageImpl, type StageRequest } from '../contract';
import { JobChannel, ProtocolError, type ProtocolMessage } from './channel';
import { isEnvelope, jobCheckpoint, restoreCheckpoint, uploadCheckpoint } from './checkpoint-files';
import { jobEnvironment } from './env';
import { CommandJobError, WorkerDrained } from './errors';
import { materialiseInputs } from './inputs-cache';
import { collectResult } from './outputs';
import { alive, isOurJob, killGroup, logTails, signalGroup, waitGone, type JobRecord } from './process';
import { resolveProgram } from './resolve';
import type { Lease, SlotPool } from './slots';

export { CommandJobError, WorkerDrained } from './errors';
export { parseResult } from './outputs';

export const CONTRACT = 'dual-ipo/command-job@2';
const POLL_MS = 200;
const BEAT_MS = 5_000;

/** A worker's drain (SIGTERM): jobs get SIGTERM at once and `graceMs` to checkpoint and exit. */
export interface Drain {
  signal: AbortSignal;
  graceMs: number;
}

export interface CommandStageOptions {
  jobsDir?: string;
  /** Host cache of inputs by sha256 (default `<jobsDir>/.cache`). */
  cacheDir?: string;
  killGraceMs?: number;
  /** The slots of the queue this activity came from (activities/slots.ts); none: no slot, no GPU. */
  slots?: SlotPool;
  drain?: Drain;
  /** The environment the job's allowlist draws from (default: the worker's). */
  workerEnv?: NodeJS.ProcessEnv;
}

/** A job whose result was refused leaves this file: its next start begins from scratch. */
const INVALID_MARKER = 'invalid-result.txt';
// stdout.jsonl: the stdout of a job started by a worker of contract @1's time.
const LOGS = ['stdout.log', 'stderr.log', 'channel.jsonl', 'stdout.jsonl'];

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

/**
 * The job's stable key: the same for every attempt of the same request on any worker, different for
 * a different request (config, inputs). A launcher that submits elsewhere names its remote job by it.
 */
export function jobKey(request: StageRequest): string {
  const { campaignId, round, stage, step, shard } = request;
  return [campaignId, `round-${String(round).padStart(4, '0')}`, step ? `${stage}-${step}` : stage, ...(shard ? [`shard-${String(shard.index).padStart(5, '0')}`] : []), requestDigest(request).slice(0, 12)].join('/');
}

/** The key as a DNS-1123 label (Kubernetes object names, Slurm job names): at most 63 characters. */
export function jobName(key: string): string {
  const [campaign = '', round = '', stage = '', ...rest] = key.split('/');
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const shard = rest.length > 1 ? `-s${Number(rest[0]!.slice('shard-'.length))}` : '';
  const readable = `${clean(campaign).slice(0, 20)}-r${Number(round.slice('round-'.length))}-${clean(stage).slice(0, 16)}${shard}`.replace(/^-+/, '');
  return `dipo-${readable}-${sha256Hex(key).slice(0, 10)}`.replace(/-+/g, '-').slice(0, 63).replace(/-+$/, '');
}

/** Moves a job's files out of the way (logs are kept) so the next start begins afresh. */
async function setAside(dir: string, folder: string, files: string[]): Promise<void> {
  const aside = join(dir, folder);
  await mkdir(aside, { recursive: true });
  for (const f of files) if (existsSync(join(dir, f))) await rename(join(dir, f), join(aside, f));
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

export const defaultJobsDir = () => join(dataDir(), 'jobs');

export function commandStage(options: CommandStageOptions = {}): StageImpl {
  const jobsDir = options.jobsDir ?? defaultJobsDir();
  const cacheDir = options.cacheDir ?? join(jobsDir, '.cache');
  const graceMs = options.killGraceMs ?? 10_000;

  return async (ctx) => {
    const argv = ctx.request.command;
    if (!argv || argv.length === 0) throw new CommandJobError(`stage ${ctx.request.stage} uses backend "command" but has no command`, true);
    const digest = requestDigest(ctx.request);
    const key = jobKey(ctx.request);
    const label = `job ${JSON.stringify(argv.join(' '))} (stage ${ctx.request.stage}${ctx.request.step ? `-${ctx.request.step}` : ''}, round ${ctx.request.round}${ctx.request.shard ? `, shard ${ctx.request.shard.index}` : ''})`;
    const dir = jobDir(jobsDir, ctx);
    const paths = {
      out: join(dir, 'out'),
      ckpt: join(dir, 'ckpt'),
      channel: join(dir, 'channel.jsonl'),
      stdout: join(dir, 'stdout.log'),
      stderr: join(dir, 'stderr.log'),
      exit: join(dir, 'exit_code'),
      job: join(dir, 'job.json'),
      result: join(dir, 'result.json'),
      // Why the worker sent SIGTERM: `drain` (resume elsewhere) or `cancel`; a launcher reads it.
      stopReason: join(dir, 'stop-reason'),
    };
    const logs = () => logTails({ stdout: paths.stdout, stderr: paths.stderr });

    const state = { done: 0, total: 1, checkpoint: (ctx.checkpoint ?? null) as unknown };
    let channel = new JobChannel(paths.channel, paths.stdout);
    // Progress and checkpoints, files first: a checkpoint counts once its files are in the store.
    const handle = async (messages: ProtocolMessage[]) => {
      for (const message of messages) {
        if (message.type === 'log') {
          ctx.log(message.message, { job: label });
          continue;
        }
        let checkpoint = message.checkpoint;
        if (checkpoint !== undefined && message.files?.length) checkpoint = await uploadCheckpoint(ctx, paths.ckpt, checkpoint, message.files, state.checkpoint, label);
        if (checkpoint !== undefined) state.checkpoint = checkpoint;
        state.done = message.done;
        state.total = message.total;
        await ctx.progress(message.done, message.total, checkpoint, message.message);
      }
    };
    const readChannel = async () => {
      try {
        await handle(await channel.read());
      } catch (err) {
        if (err instanceof ProtocolError) throw new CommandJobError(`${label}: ${err.message}`, true);
        throw err;
      }
    };

    let job: JobRecord | undefined = existsSync(paths.job) ? (JSON.parse(await readFile(paths.job, 'utf8')) as JobRecord) : undefined;
    // A job started before channels existed (an upgrade while it ran) printed its protocol to stdout.jsonl.
    const legacyStdout = join(dir, 'stdout.jsonl');
    if (job && existsSync(legacyStdout) && !existsSync(paths.stdout)) channel = new JobChannel(paths.channel, (paths.stdout = legacyStdout));
    // A job folder answers only the request that started it (a record from before digests: its argv).
    if (job && (job.digest ?? null) !== digest && (job.digest !== undefined || JSON.stringify(job.argv) !== JSON.stringify(argv))) {
      if (await isOurJob(job)) await killGroup(job.pid, graceMs);
      const superseded = `${dir}.superseded-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(dir, superseded);
      ctx.log(`${label}: the job folder held a different request or command; moved it aside and starting afresh`, { superseded });
      job = undefined;
      // Its checkpoint (heartbeat details, store) belongs to the other job.
      state.checkpoint = null;
    }
    await mkdir(paths.out, { recursive: true });
    await mkdir(paths.ckpt, { recursive: true });
    if (existsSync(join(dir, INVALID_MARKER))) state.checkpoint = null;
    const exitCode = existsSync(paths.exit) ? Number((await readFile(paths.exit, 'utf8')).trim()) : undefined;
    // A job that finished successfully while nobody watched is collected; a failed one is rerun.
    const finishedUnwatched = job !== undefined && exitCode === 0;
    const running = job !== undefined && exitCode === undefined && (await isOurJob(job));

    // Heartbeats while the job is quiet, inputs download or slots are awaited: cancellation reaches an
    // activity only through them.
    const beat = setInterval(() => void ctx.progress(state.done, state.total).catch(() => undefined), BEAT_MS);
    let lease: Lease | undefined;
    let detached = false;
    try {
      if (job && !finishedUnwatched && !running) {
        // The job died with its worker: keep its logs, replay its progress to learn the last
        // checkpoint, and start it again from there.
        if (!existsSync(join(dir, INVALID_MARKER))) await readChannel().catch(() => undefined);
        await setAside(dir, `attempt-${job.attempt}`, [...LOGS, 'job.json']);
        channel = new JobChannel(paths.channel, (paths.stdout = join(dir, 'stdout.log')));
      }

      if (!finishedUnwatched && !running) {
        if (!resolveProgram(argv[0]!)) {
          throw new CommandJobError(`${label}: command "${argv[0]}" not found (not on PATH, and no executable file of that name relative to ${process.cwd()})`, true);
        }
        const inputs = await materialiseInputs(ctx, cacheDir);
        if (isEnvelope(state.checkpoint) && !(await restoreCheckpoint(ctx, paths.ckpt, state.checkpoint))) state.checkpoint = null;
        const gpus = ctx.request.gpusPerJob ?? 1;
        // A draining worker starts nothing: the stage goes to another worker (with its checkpoint).
        const notStarted = () => new WorkerDrained(`${label}: not started, the worker is draining`, ctx.request.drainRestarts === true);
        if (options.drain?.signal.aborted) throw notStarted();
        if (options.slots) {
          const waiting = options.drain ? AbortSignal.any([ctx.signal, options.drain.signal]) : ctx.signal;
          lease = await options.slots
            .acquire(dir, gpus, { signal: waiting, onWait: (n) => ctx.progress(state.done, state.total, undefined, `waiting for ${n} free ${options.slots!.spec.name} slot${n > 1 ? 's' : ''}`) })
            .catch((err: unknown) => {
              if (ctx.signal.aborted) throw err;
              if (options.drain?.signal.aborted) throw notStarted();
              throw new CommandJobError(`${label}: stages.${ctx.request.stage}.gpusPerJob: ${(err as Error).message}`, true);
            });
        }
        // A result file answers this request once the job exits 0: only a failed run's is stale. One
        // from a job that died without an exit code is kept: its remote work (a launcher's) may have
        // finished meanwhile, and the restarted launcher re-attaches and exits 0 without rewriting it.
        const stale = [paths.exit, paths.stopReason, ...(exitCode !== undefined || !job ? [paths.result] : [])];
        for (const path of stale) await rm(path, { force: true });
        const request = {
          contract: CONTRACT,
          jobKey: key,
          campaignId: ctx.request.campaignId,
          round: ctx.request.round,
          stage: ctx.request.stage,
          step: ctx.request.step ?? null,
          ...(ctx.request.shard ? { shard: ctx.request.shard } : {}),
          inputs,
          params: ctx.request.params,
          outputDir: paths.out,
          resultFile: paths.result,
          checkpointDir: paths.ckpt,
          checkpoint: jobCheckpoint(state.checkpoint) ?? null,
        };
        const requestPath = join(dir, 'request.json');
        await writeAtomic(requestPath, JSON.stringify(request, null, 2));
        const nonce = randomBytes(8).toString('hex');
        const own: Record<string, string> = {
          DUAL_IPO_REQUEST: requestPath,
          DUAL_IPO_JOB_DIR: dir,
          DUAL_IPO_JOB_NONCE: nonce,
          DUAL_IPO_JOB_KEY: key,
          DUAL_IPO_JOB_NAME: jobName(key),
          DUAL_IPO_CHANNEL: paths.channel,
          DUAL_IPO_CHECKPOINT_DIR: paths.ckpt,
          ...(lease ? { DUAL_IPO_SLOT: String(lease.slots[0]), DUAL_IPO_SLOTS: lease.slots.join(',') } : {}),
          ...(lease?.devices.length ? { CUDA_VISIBLE_DEVICES: lease.devices.join(','), DUAL_IPO_GPUS: String(lease.devices.length) } : {}),
        };
        // sh records the exit code even when nobody waits for the job any more. It survives the
        // SIGTERM sent to the group (a caught signal: the job itself gets the default disposition).
        const script = 'trap : TERM; "$@" >"$DUAL_IPO_JOB_DIR/stdout.log" 2>"$DUAL_IPO_JOB_DIR/stderr.log"; echo $? >"$DUAL_IPO_JOB_DIR/exit_code.tmp"; mv "$DUAL_IPO_JOB_DIR/exit_code.tmp" "$DUAL_IPO_JOB_DIR/exit_code"';
        const child = spawn('/bin/sh', ['-c', script, 'sh', ...argv], { detached: true, stdio: 'ignore', env: jobEnvironment(options.workerEnv ?? process.env, ctx.request.env, own) });
        child.unref();
        job = { pid: child.pid!, argv, nonce, startedAt: new Date().toISOString(), attempt: (job?.attempt ?? 0) + 1, digest, ...(lease ? { slots: lease } : {}) };
        await writeAtomic(paths.job, JSON.stringify(job, null, 2));
        if (lease) await options.slots!.adopt(dir, lease.slots, job);
        await rm(join(dir, INVALID_MARKER), { force: true });
        ctx.log(`started ${label}`, { pid: job.pid, attempt: job.attempt, key, resumeFrom: jobCheckpoint(state.checkpoint), ...(lease ? { slots: lease.slots, devices: lease.devices } : {}) });
      } else if (running) {
        // The re-attached job keeps the devices it was started with.
        if (job!.slots && options.slots?.spec.name === job!.slots.pool) lease = await options.slots.adopt(dir, job!.slots.slots, job);
        ctx.log(`re-attached to ${label}`, { pid: job!.pid });
      }

      const pid = job!.pid;
      let drainDeadline: number | undefined;
      try {
        for (;;) {
          if (keepsExternalWork(ctx.signal)) {
            // Contact with the server was lost, nobody asked us to stop: the job keeps running (and
            // keeps its slots) and the next attempt re-attaches to it by pid and nonce.
            detached = true;
            throw new CommandJobError(`${label}: left running (pid ${pid}) for the next attempt: ${(ctx.signal.reason as Error).message}`);
          }
          if (ctx.signal.aborted) {
            // The SDK cancels what is still running when a draining worker's grace ends: still the drain.
            const draining = options.drain?.signal.aborted === true && (ctx.signal.reason as Error | undefined)?.message === 'WORKER_SHUTDOWN';
            await writeFile(paths.stopReason, draining ? 'drain\n' : 'cancel\n');
            await killGroup(pid, graceMs);
            await readChannel().catch(() => undefined);
            if (draining) throw new WorkerDrained(`${label}: stopped at the end of the worker's drain; resumes elsewhere from its last checkpoint`, ctx.request.drainRestarts === true);
            throw new CommandJobError(`${label}: cancelled; the job's process group was stopped`);
          }
          if (options.drain?.signal.aborted && drainDeadline === undefined && alive(pid)) {
            // The worker is stopping: ask the job for a last checkpoint now, while there is time.
            drainDeadline = Date.now() + options.drain.graceMs;
            await writeFile(paths.stopReason, 'drain\n');
            signalGroup(pid, 'SIGTERM');
            ctx.log(`${label}: worker draining; sent SIGTERM, waiting up to ${Math.round(options.drain.graceMs / 1000)} s for a last checkpoint`, { pid });
          }
          if (drainDeadline !== undefined && Date.now() > drainDeadline && alive(pid)) {
            signalGroup(pid, 'SIGKILL');
            await waitGone(pid, 2_000);
          }
          await readChannel();
          if (existsSync(paths.exit)) break;
          if (!alive(pid)) {
            // The shell is gone without an exit code (killed): nothing more will come.
            await new Promise((r) => setTimeout(r, POLL_MS));
            if (existsSync(paths.exit)) break;
            await readChannel();
            if (drainDeadline !== undefined) throw new WorkerDrained(`${label}: stopped by the worker's drain (killed after ${Math.round(options.drain!.graceMs / 1000)} s); resumes elsewhere from its last checkpoint`, ctx.request.drainRestarts === true);
            throw new CommandJobError(`${label}: the job's process group ended without an exit code (killed?); ${await logs()}`);
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
        await readChannel();
      } catch (err) {
        if (err instanceof CommandJobError && err.nonRetryable && !(err instanceof WorkerDrained)) {
          await writeFile(paths.stopReason, 'cancel\n');
          await killGroup(pid, graceMs);
        }
        throw err;
      }

      const code = Number((await readFile(paths.exit, 'utf8')).trim());
      if (code !== 0 && drainDeadline !== undefined) {
        throw new WorkerDrained(`${label}: stopped by the worker's drain (exit ${code}); resumes elsewhere from its last checkpoint`, ctx.request.drainRestarts === true);
      }
      if (code !== 0) throw new CommandJobError(`${label} exited with code ${code}; ${await logs()}`, false);
      try {
        return await collectResult(ctx, paths.result, paths.out, label);
      } catch (err) {
        if (err instanceof CommandJobError) {
          // Never reuse a refused result: the next attempt (after a fix, or a `run` again) runs the job anew.
          await setAside(dir, `attempt-${job!.attempt}`, [...LOGS, 'result.json', 'exit_code']);
          await writeFile(join(dir, INVALID_MARKER), `${err.message}\n`);
        }
        throw err;
      }
    } finally {
      clearInterval(beat);
      // A job left running keeps its slots; any other way out frees them.
      if (lease && !detached) await options.slots!.release(dir, lease).catch(() => undefined);
    }
  };
}
