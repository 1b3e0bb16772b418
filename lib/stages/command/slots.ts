// Slots of a worker's queue, and the GPU devices behind them. A queue `gpu:8` has 8 slots; every job
// holds as many as it asks for (stages.<stage>.gpusPerJob, default 1) and sees its devices in
// CUDA_VISIBLE_DEVICES. A slot is held by a lease file on the host (`<slots dir>/<pool>-<slot>.lease`),
// not by the worker's memory: a job that outlives its worker keeps its GPUs until it ends, a worker
// restarted beside it does not hand them out again, and the retry that re-attaches takes the lease
// over. Requests are served first come, first served, so a job waiting for 8 GPUs is not overtaken
// forever by 1-GPU jobs.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alive, isOurJob } from './process';

export interface SlotPoolSpec {
  /** Lease file prefix: `gpu` for the GPU queues (they share the host's devices), else the queue name. */
  name: string;
  /** Device ids behind the slots (GPU pools), e.g. ["0","1",...]; absent: plain slots. */
  devices?: string[];
  size: number;
}

export interface Lease {
  pool: string;
  slots: number[];
  devices: string[];
}

interface LeaseFile {
  owner: string;
  workerPid: number;
  jobPid?: number;
  nonce?: string;
}

export class SlotPool {
  private readonly queue: symbol[] = [];

  constructor(
    readonly spec: SlotPoolSpec,
    readonly dir: string,
  ) {}

  private path(slot: number) {
    return join(this.dir, `${this.spec.name}-${slot}.lease`);
  }

  private async read(slot: number): Promise<LeaseFile | undefined> {
    try {
      return JSON.parse(await readFile(this.path(slot), 'utf8')) as LeaseFile;
    } catch {
      return undefined;
    }
  }

  /** Free, stale (neither its worker nor its job lives), or already `owner`'s. */
  private async available(slot: number, owner: string): Promise<boolean> {
    const lease = await this.read(slot);
    if (!lease || lease.owner === owner) return true;
    if (lease.workerPid !== process.pid && alive(lease.workerPid)) return false;
    if (lease.jobPid !== undefined && lease.nonce !== undefined && (await isOurJob({ pid: lease.jobPid, nonce: lease.nonce }))) return false;
    // Our own process holds it for another job that still runs here: busy.
    return lease.workerPid !== process.pid || !this.held.has(lease.owner);
  }

  private readonly held = new Set<string>();

  private async write(slot: number, lease: LeaseFile): Promise<void> {
    const tmp = `${this.path(slot)}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(lease));
    await rename(tmp, this.path(slot));
  }

  private leaseOf(slots: number[]): Lease {
    return { pool: this.spec.name, slots, devices: this.spec.devices ? slots.map((s) => this.spec.devices![s]!) : [] };
  }

  /**
   * Waits (calling `onWait` every few seconds, e.g. to heartbeat) until `count` slots are free, in
   * arrival order, and leases them to `owner`. Throws what `signal` carries when it aborts.
   */
  async acquire(owner: string, count: number, opts: { signal: AbortSignal; onWait?: (waitingFor: number) => Promise<void> }): Promise<Lease> {
    if (count > this.spec.size) throw new Error(`${count} slots asked for, the ${this.spec.name} pool of this worker has ${this.spec.size}`);
    await mkdir(this.dir, { recursive: true });
    const ticket = Symbol(owner);
    this.queue.push(ticket);
    let lastWait = 0;
    try {
      for (;;) {
        if (opts.signal.aborted) throw opts.signal.reason;
        if (this.queue[0] === ticket) {
          const free: number[] = [];
          for (let slot = 0; slot < this.spec.size && free.length < count; slot++) if (await this.available(slot, owner)) free.push(slot);
          if (free.length === count) {
            for (const slot of free) await this.write(slot, { owner, workerPid: process.pid });
            this.held.add(owner);
            return this.leaseOf(free);
          }
        }
        if (Date.now() - lastWait > 5_000) {
          lastWait = Date.now();
          await opts.onWait?.(count);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      this.queue.splice(this.queue.indexOf(ticket), 1);
    }
  }

  /** A re-attached job keeps the slots it was started with: this worker takes their leases over. */
  async adopt(owner: string, slots: number[], job?: { pid: number; nonce: string }): Promise<Lease> {
    await mkdir(this.dir, { recursive: true });
    for (const slot of slots) await this.write(slot, { owner, workerPid: process.pid, ...(job ? { jobPid: job.pid, nonce: job.nonce } : {}) });
    this.held.add(owner);
    return this.leaseOf(slots);
  }

  async release(owner: string, lease: Lease): Promise<void> {
    for (const slot of lease.slots) if ((await this.read(slot))?.owner === owner) await rm(this.path(slot), { force: true });
    this.held.delete(owner);
  }
}

/** Default device ids of a GPU pool: the worker's own CUDA_VISIBLE_DEVICES, else 0..size-1. */
export function defaultDevices(size: number, env: NodeJS.ProcessEnv = process.env): string[] {
  const visible = env.CUDA_VISIBLE_DEVICES?.split(',').map((d) => d.trim()).filter(Boolean);
  if (visible && visible.length >= size) return visible.slice(0, size);
  return Array.from({ length: size }, (_, i) => String(i));
}

/** `gpu` and `gpu-*` / `gpu_*` queues hand out GPU devices. */
export const isGpuQueue = (name: string) => /^gpu([-_.].*)?$/.test(name);

/**
 * The slot pools of a worker's stage queues: one per queue of its concurrency, except that the GPU
 * queues share one pool over the host's devices (`gpus`, default defaultDevices of the largest GPU
 * queue), so `gpu:8,gpu-node:1` never gives one device to two jobs.
 */
export function slotPools(queues: Array<{ name: string; concurrency: number }>, dir: string, gpus?: string[]): Map<string, SlotPool> {
  const pools = new Map<string, SlotPool>();
  const gpuQueues = queues.filter((q) => isGpuQueue(q.name));
  if (gpuQueues.length > 0) {
    const devices = gpus ?? defaultDevices(Math.max(...gpuQueues.map((q) => q.concurrency)));
    const pool = new SlotPool({ name: 'gpu', devices, size: devices.length }, dir);
    for (const q of gpuQueues) pools.set(q.name, pool);
  }
  for (const q of queues) if (!isGpuQueue(q.name)) pools.set(q.name, new SlotPool({ name: q.name.replace(/[^A-Za-z0-9._-]/g, '_'), size: q.concurrency }, dir));
  return pools;
}
