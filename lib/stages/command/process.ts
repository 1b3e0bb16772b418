// The job's process group, seen from the worker: is it alive, is it ours (not a recycled pid), and
// stopping it. Jobs run detached in their own group, so these work from any worker on the host.
import { readFile } from 'node:fs/promises';

export interface JobRecord {
  pid: number;
  argv: string[];
  nonce: string;
  startedAt: string;
  attempt: number;
  /** requestDigest of the request that started the job: its outcome answers only that request. */
  digest?: string;
  /** The slots (and GPU devices) the job was given: a re-attached job keeps them. */
  slots?: { pool: string; slots: number[]; devices: string[] };
}

export function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Our job, not a recycled pid: its environment carries the nonce we gave it. */
export async function isOurJob(job: Pick<JobRecord, 'pid' | 'nonce'>): Promise<boolean> {
  if (!alive(job.pid)) return false;
  try {
    const environ = await readFile(`/proc/${job.pid}/environ`, 'utf8');
    return environ.includes(`DUAL_IPO_JOB_NONCE=${job.nonce}`);
  } catch {
    return true; // no /proc (macOS): trust the live process group
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the group is gone or `ms` passed; true when it is gone. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

/** SIGTERM, `graceMs` to end, then SIGKILL. */
export async function killGroup(pid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pid, 'SIGTERM')) return;
  if (!(await waitGone(pid, graceMs))) signalGroup(pid, 'SIGKILL');
}

/** The end of a log file, for failure messages. */
export async function tail(path: string, maxBytes = 2000): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.length > maxBytes ? `…${text.slice(-maxBytes)}` : text;
  } catch {
    return '';
  }
}

/** Both logs' tails, labelled, leaving out empty ones. */
export async function logTails(paths: { stdout: string; stderr: string }, maxBytes = 1500): Promise<string> {
  const parts: string[] = [];
  for (const [name, path] of Object.entries(paths)) {
    const text = (await tail(path, maxBytes)).trimEnd();
    if (text) parts.push(`${name}:\n${text}`);
  }
  return parts.length ? parts.join('\n') : '(stdout and stderr are empty)';
}
