// What every launcher shares: the request and the job's key, running the scheduler's CLI, and
// following a remote job to its end. A launcher is a command-backend job (docs/command-backend.md)
// whose work runs elsewhere (Slurm, Kubernetes); the job folder (--jobs-dir) must be on a file system
// the remote nodes mount at the same path, so the remote job reads the request and writes the channel,
// outputs and result file where the worker looks for them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const EXIT_TERMINATED = 75;

export function context() {
  const requestPath = process.env.DUAL_IPO_REQUEST;
  if (!requestPath) {
    console.error('launcher: no DUAL_IPO_REQUEST (run it as a command-backend job)');
    process.exit(2);
  }
  const request = JSON.parse(readFileSync(requestPath, 'utf8'));
  const launcher = request.params.launcher ?? {};
  if (!Array.isArray(launcher.command) || launcher.command.length === 0) {
    console.error('launcher: params.launcher.command (the argv to run remotely) is required');
    process.exit(2);
  }
  return {
    request,
    launcher,
    key: process.env.DUAL_IPO_JOB_KEY,
    name: process.env.DUAL_IPO_JOB_NAME,
    jobDir: process.env.DUAL_IPO_JOB_DIR,
    // What the remote job needs from its environment to speak the contract.
    remoteEnv: Object.fromEntries(['DUAL_IPO_REQUEST', 'DUAL_IPO_JOB_DIR', 'DUAL_IPO_CHANNEL', 'DUAL_IPO_CHECKPOINT_DIR', 'DUAL_IPO_JOB_KEY'].map((k) => [k, process.env[k] ?? ''])),
  };
}

/**
 * Runs the scheduler's CLI; a failure to run it at all (not on PATH) ends the launcher. `interrupted`:
 * the CLI was killed by a signal, i.e. the worker's SIGTERM to our process group reached it while we
 * waited: its answer means nothing, and our own SIGTERM handler runs at the next pause.
 */
export function cli(command, args, input) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (r.error) {
    console.error(`launcher: cannot run ${command}: ${r.error.message}`);
    process.exit(127);
  }
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', interrupted: r.signal !== null };
}

export const pause = (ms = 100) => new Promise((r) => setTimeout(r, ms));

/** Calls `query` until it is not interrupted (see cli); a pending SIGTERM ends the launcher meanwhile. */
export async function settled(query) {
  for (;;) {
    const answer = query();
    if (!answer?.interrupted) return answer;
    await pause();
  }
}

export function log(message) {
  console.log(`[launcher] ${message}`);
}

/**
 * Call first. SIGTERM: the worker stops the launcher. Why is in `$DUAL_IPO_JOB_DIR/stop-reason`:
 * `drain` (the worker is going away; the remote job keeps running and the retry's launcher
 * re-attaches to it by name) or `cancel` (the stage is cancelled: `cancel()` stops the remote job too).
 */
export function onStop(cancel) {
  process.on('SIGTERM', () => {
    let reason = 'cancel';
    try {
      reason = readFileSync(join(process.env.DUAL_IPO_JOB_DIR, 'stop-reason'), 'utf8').trim();
    } catch {
      // no reason written: treat as a cancellation
    }
    if (reason === 'drain') log('worker draining: leaving the remote job running for the next attempt');
    else {
      log('cancelled: stopping the remote job');
      cancel();
    }
    process.exit(EXIT_TERMINATED);
  });
}

/**
 * Polls `state()` ({ state: 'pending' | 'running' | 'done', exitCode? }, or { interrupted: true }) until
 * the remote job is done and exits with its exit code.
 */
export async function follow({ state, intervalMs = 2000 }) {
  let last;
  for (;;) {
    const now = await settled(state);
    if (now.state !== last) log(`remote job ${now.state}${now.state === 'done' ? ` (exit ${now.exitCode})` : ''}`);
    last = now.state;
    if (now.state === 'done') process.exit(now.exitCode);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
