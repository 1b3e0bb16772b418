// Training machinery shared by every model: Adam with global-norm clipping, an optional EMA of the
// weights, and a state that serialises to a checkpoint so an interrupted run resumes exactly
// (weights, moments, EMA and step count).
import * as tf from '@tensorflow/tfjs';
import { TfOps } from './tf-ops';
import type { ParamSet } from './params';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Clip the global gradient norm to this value (none if undefined). */
  clipNorm?: number;
  /** Keep an exponential moving average of the trainable weights with this decay. */
  emaDecay?: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

let counter = 0;
const variable = (data: Float32Array, shape: number[], name: string) => tf.variable(tf.tensor(data, shape, 'float32'), true, `${name}#t${++counter}`);

export class Trainer {
  readonly vars: Record<string, tf.Variable> = {};
  readonly frozen: Record<string, tf.Tensor> = {};
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};
  private readonly ema: Record<string, tf.Variable> = {};
  private readonly opts: Required<Omit<AdamOptions, 'clipNorm' | 'emaDecay'>> & AdamOptions;
  /** Number of optimiser steps taken. */
  t = 0;
  readonly ops: TfOps;

  /** `trainable` picks the parameters that learn; the others are frozen constants. */
  constructor(params: ParamSet, trainable: (name: string) => boolean, opts: AdamOptions = {}, state?: ParamSet, stepCount = 0) {
    this.opts = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...opts };
    for (const [name, p] of Object.entries(params)) {
      if (!trainable(name)) {
        this.frozen[name] = tf.tensor(p.data, p.shape, 'float32');
        continue;
      }
      this.vars[name] = variable(p.data, p.shape, name);
      const zeros = new Float32Array(p.data.length);
      this.m[name] = variable(state?.[`adam.m/${name}`]?.data ?? zeros, p.shape, `m/${name}`);
      this.v[name] = variable(state?.[`adam.v/${name}`]?.data ?? zeros, p.shape, `v/${name}`);
      if (opts.emaDecay !== undefined) this.ema[name] = variable(state?.[`ema/${name}`]?.data ?? p.data, p.shape, `ema/${name}`);
    }
    this.t = stepCount;
    this.ops = new TfOps({ ...this.frozen, ...this.vars });
  }

  /** One Adam step on `lossFn` (built with this.ops) at learning rate `lr`. */
  step(lossFn: () => tf.Scalar, lr: number): StepResult {
    const names = Object.keys(this.vars);
    const { value, grads } = tf.variableGrads(lossFn, names.map((n) => this.vars[n]!));
    const loss = value.dataSync()[0]!;
    value.dispose();
    let gradNorm = 0;
    tf.tidy(() => {
      const list = names.map((n) => grads[this.vars[n]!.name]!);
      gradNorm = Math.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
      // A non-finite loss or gradient skips the update: the caller counts it (nanCount) and the
      // weights stay as they were rather than turning into NaN.
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return;
      const clip = this.opts.clipNorm !== undefined && gradNorm > this.opts.clipNorm ? this.opts.clipNorm / gradNorm : 1;
      this.t += 1;
      const { beta1: b1, beta2: b2, epsilon } = this.opts;
      const c1 = 1 - b1 ** this.t;
      const c2 = 1 - b2 ** this.t;
      names.forEach((n, i) => {
        const g = clip === 1 ? list[i]! : tf.mul(list[i]!, clip);
        const m = this.m[n]!;
        const v = this.v[n]!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
        this.vars[n]!.assign(tf.sub(this.vars[n]!, update));
        const e = this.ema[n];
        if (e) e.assign(tf.add(tf.mul(e, this.opts.emaDecay!), tf.mul(this.vars[n]!, 1 - this.opts.emaDecay!)));
      });
    });
    for (const g of Object.values(grads)) g.dispose();
    return { loss, gradNorm };
  }

  /** Current weights (trainable and frozen) as plain data; `ema` gives the averaged weights instead. */
  params(which: 'current' | 'ema' = 'current'): ParamSet {
    const out: ParamSet = {};
    for (const [n, t] of Object.entries(this.frozen)) out[n] = { shape: [...t.shape], data: new Float32Array(t.dataSync()) };
    for (const [n, t] of Object.entries(this.vars)) {
      const src = which === 'ema' && this.ema[n] ? this.ema[n] : t;
      out[n] = { shape: [...t.shape], data: new Float32Array(src.dataSync()) };
    }
    return out;
  }

  /** Everything needed to resume: Adam moments and EMA under prefixed names (weights come from params()). */
  optimizerState(): ParamSet {
    const out: ParamSet = {};
    const put = (prefix: string, from: Record<string, tf.Variable>) => {
      for (const [n, t] of Object.entries(from)) out[`${prefix}/${n}`] = { shape: [...t.shape], data: new Float32Array(t.dataSync()) };
    };
    put('adam.m', this.m);
    put('adam.v', this.v);
    put('ema', this.ema);
    return out;
  }

  dispose(): void {
    for (const group of [this.vars, this.frozen, this.m, this.v, this.ema]) for (const t of Object.values(group)) t.dispose();
  }
}

/** Linear warm-up then cosine decay to `floor` x the peak. */
export function cosineSchedule(step: number, total: number, peak: number, warmup = 0, floor = 0.1): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
