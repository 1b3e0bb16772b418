// What the bootstrap's steps share: the stage, its cache folder, sizes and seed, timed phases, and
// progress on one 0-100 scale (with the critic branch's own status appended when it runs beside).
import type { ArtifactRef, ArtifactStore } from '../../../artifacts';
import type { StageContext } from '../../contract';
import type { Sizes } from '../../../models/sizes';
import { throwIfCancelled } from '../common';

export interface BootstrapRun {
  ctx: StageContext;
  store: ArtifactStore;
  /** The cache folder of these settings (keys end in /). */
  prefix: string;
  seed: string;
  sizes: Sizes;
  runtime: { threads?: number };
  /** Seconds per phase, reported as metrics `seconds_<phase>`. */
  timings: Record<string, number>;
  phase<T>(name: string, f: () => Promise<T>): Promise<T>;
  progress(percent: number, message: string, interim?: ArtifactRef): Promise<void>;
  /** A finished phase's file in the cache folder, if any. */
  at(name: string): Promise<ArtifactRef | undefined>;
  setCriticStatus(message: string): void;
}

export function bootstrapRun(ctx: StageContext, prefix: string, seed: string, sizes: Sizes, runtime: { threads?: number }): BootstrapRun {
  const timings: Record<string, number> = {};
  let criticStatus = '';
  return {
    ctx,
    store: ctx.store,
    prefix,
    seed,
    sizes,
    runtime,
    timings,
    async phase(name, f) {
      throwIfCancelled(ctx);
      const t = performance.now();
      const out = await f();
      timings[`seconds_${name}`] = (performance.now() - t) / 1000;
      ctx.log(`bootstrap: ${name} done`, { seconds: timings[`seconds_${name}`] });
      return out;
    },
    progress: (percent, message, interim) => ctx.progress(percent, 100, { cache: prefix, ...(interim ? { interim } : {}) }, criticStatus ? `${message}; ${criticStatus}` : message),
    at: (name) => ctx.store.head(`${prefix}${name}`),
    setCriticStatus(message) {
      criticStatus = message;
    },
  };
}
