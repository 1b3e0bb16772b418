// What every builtin stage needs besides its parameters (params.ts): its inputs (a missing one is a
// configuration error, not something to retry), interim training state in the store, and the tfjs backend.
import type { ArtifactRef } from '../../artifacts';
import type { StageContext } from '../contract';
import { initTf } from '../../models/backend';
import { decodeCheckpoint, encodeCheckpoint } from '../../models/checkpoint';
import type { ParamSet } from '../../models/nn/params';
import { ConfigError } from '../params';

export { ConfigError };

export function stageName(ctx: StageContext): string {
  const r = ctx.request;
  return `${r.stage}${r.step ? `-${r.step}` : ''} (round ${r.round})`;
}

export function input(ctx: StageContext, name: string): ArtifactRef {
  const ref = ctx.request.inputs[name];
  if (!ref) throw new ConfigError(`${stageName(ctx)}: missing input "${name}" (got: ${Object.keys(ctx.request.inputs).join(', ') || 'none'})`);
  return ref;
}

/** Inference threads for onnxruntime: param `threads`, else all cores. */
export function runtimeOptions(p: { threads?: number | undefined }): { threads?: number } {
  return p.threads !== undefined ? { threads: p.threads } : {};
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
