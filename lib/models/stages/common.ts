// What every builtin stage needs: typed access to its params (a bad value is a configuration error,
// not something to retry), its inputs, interim training state in the store, and the tfjs backend.
import type { ArtifactRef } from '../../artifacts';
import type { StageContext } from '../../../activities/types';
import { initTf } from '../backend';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import type { ParamSet } from '../nn/params';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly nonRetryable = true;
}

/** Stage params with checked types; `where` names the stage in errors. */
export class Params {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== null;
  }

  number(name: string, fallback?: number, check: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.values[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${this.where}: param "${name}" must be a finite number, got ${JSON.stringify(v)}`);
    if (check.integer && !Number.isInteger(v)) throw new ConfigError(`${this.where}: param "${name}" must be an integer, got ${v}`);
    if (check.min !== undefined && v < check.min) throw new ConfigError(`${this.where}: param "${name}" must be >= ${check.min}, got ${v}`);
    if (check.max !== undefined && v > check.max) throw new ConfigError(`${this.where}: param "${name}" must be <= ${check.max}, got ${v}`);
    return v;
  }

  int(name: string, fallback?: number, min = 0): number {
    return this.number(name, fallback, { integer: true, min });
  }

  boolean(name: string, fallback?: boolean): boolean {
    const v = this.values[name] ?? fallback;
    if (typeof v !== 'boolean') throw new ConfigError(`${this.where}: param "${name}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const v = this.values[name] ?? fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ConfigError(`${this.where}: param "${name}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  seed(): string {
    const v = this.values.seed ?? 0;
    if (typeof v !== 'number' && typeof v !== 'string') throw new ConfigError(`${this.where}: param "seed" must be a number or a string`);
    return String(v);
  }
}

export function stageName(ctx: StageContext): string {
  const r = ctx.request;
  return `${r.stage}${r.step ? `-${r.step}` : ''} (round ${r.round})`;
}

export function paramsOf(ctx: StageContext): Params {
  return new Params(ctx.request.params ?? {}, stageName(ctx));
}

export function input(ctx: StageContext, name: string): ArtifactRef {
  const ref = ctx.request.inputs[name];
  if (!ref) throw new ConfigError(`${stageName(ctx)}: missing input "${name}" (got: ${Object.keys(ctx.request.inputs).join(', ') || 'none'})`);
  return ref;
}

/** Inference threads for onnxruntime: param `threads`, else all cores. */
export function runtimeOptions(p: Params): { threads?: number } {
  return p.has('threads') ? { threads: p.int('threads', undefined, 1) } : {};
}

/** Prepares tfjs (backend chosen once per process, logged through the stage's log). */
export async function prepare(ctx: StageContext): Promise<void> {
  const choice = await initTf((line) => ctx.log(line));
  ctx.log('tfjs backend', { backend: choice.backend, package: choice.package });
}

export function throwIfCancelled(ctx: StageContext): void {
  if (ctx.signal.aborted) throw Object.assign(new Error(`${stageName(ctx)}: cancelled`), { name: 'CancelledError' });
}

// ---------------------------------------------------------------------------------------------
// Interim training state: weights + optimiser state + step, saved under the stage's (or a cache's)
// prefix, so that a new attempt after a crash continues where the last save left off.

export interface InterimState {
  step: number;
  params: ParamSet;
  state: ParamSet;
  extra: Record<string, unknown>;
}

export async function saveInterim(ctx: StageContext, key: string, s: InterimState): Promise<ArtifactRef> {
  const params: ParamSet = {};
  for (const [k, v] of Object.entries(s.params)) params[`p/${k}`] = v;
  for (const [k, v] of Object.entries(s.state)) params[`s/${k}`] = v;
  return ctx.store.put(key, encodeCheckpoint({ kind: 'interim', config: { step: s.step }, meta: s.extra, params }));
}

/** The interim state at `key`, or undefined when there is none (or it does not verify: then start over). */
export async function loadInterim(ctx: StageContext, key: string): Promise<InterimState | undefined> {
  const ref = await ctx.store.head(key);
  if (!ref) return undefined;
  try {
    const ckpt = decodeCheckpoint<{ step: number }>(await ctx.store.get(ref), ref.uri, { kind: 'interim' });
    const params: ParamSet = {};
    const state: ParamSet = {};
    for (const [k, v] of Object.entries(ckpt.params)) {
      if (k.startsWith('p/')) params[k.slice(2)] = v;
      else if (k.startsWith('s/')) state[k.slice(2)] = v;
    }
    return { step: ckpt.config.step, params, state, extra: ckpt.meta };
  } catch (err) {
    ctx.log('interim state does not verify; starting this phase over', { key, error: (err as Error).message });
    return undefined;
  }
}

/** Mean of finite values (NaN when none). */
export const mean = (values: readonly number[]) => {
  const f = values.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : Number.NaN;
};

/** Drops non-finite metrics (the stage runner would count them as nonFiniteMetrics). */
export function finiteMetrics(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => Number.isFinite(v)));
}
