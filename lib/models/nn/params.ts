// Parameters as plain data: a name -> {shape, data} map. This is what checkpoints store, what ONNX
// initializers are made of, and what training turns into tf.Variables (and back).
import { Random } from './random';

export interface ParamTensor {
  shape: number[];
  data: Float32Array;
}
export type ParamSet = Record<string, ParamTensor>;
/** Expected shapes by parameter name: what a model config implies (checkpoints are checked against it). */
export type ParamShapes = Record<string, number[]>;

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function countParams(params: ParamSet): number {
  return Object.values(params).reduce((n, p) => n + p.data.length, 0);
}

/**
 * Deterministic initialisation from a seed: weights ("*.w", "*.table") ~ N(0, gain^2 / fan_in)
 * (He/LeCun style by fan-in), biases and LayerNorm betas 0, LayerNorm gains ("*.g") 1. Names ending
 * in ".zero" layers' weights start at 0 (residual branches start as identities, output heads at 0).
 */
export function initParams(shapes: ParamShapes, seed: number | string, zeroInit: (name: string) => boolean = () => false): ParamSet {
  const out: ParamSet = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = sizeOf(shape);
    let data: Float32Array;
    if (name.endsWith('.g')) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.b') || zeroInit(name)) data = new Float32Array(n);
    else {
      const fanIn = name.endsWith('.table') ? 1 : shape[0]!;
      const std = name.endsWith('.table') ? 0.5 : Math.sqrt(1 / fanIn);
      data = new Random(seed, 'init', name).normals(n, std);
    }
    out[name] = { shape: [...shape], data };
  }
  return out;
}

export function cloneParams(params: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: [...v.shape], data: new Float32Array(v.data) }]));
}

/** Only the parameters whose names start with one of the prefixes. */
export function pickParams(params: ParamSet, prefixes: readonly string[]): ParamSet {
  return Object.fromEntries(Object.entries(params).filter(([k]) => prefixes.some((p) => k.startsWith(p))));
}

/** Throws naming the first parameter that is missing, unexpected, misshapen or not finite. */
export function checkParams(params: ParamSet, shapes: ParamShapes, where: string): void {
  for (const [name, shape] of Object.entries(shapes)) {
    const p = params[name];
    if (!p) throw new Error(`${where}: missing tensor "${name}" (expected shape [${shape.join(', ')}])`);
    if (p.shape.join() !== shape.join()) throw new Error(`${where}: tensor "${name}" has shape [${p.shape.join(', ')}] but the config expects [${shape.join(', ')}]`);
    if (p.data.length !== sizeOf(shape)) throw new Error(`${where}: tensor "${name}" holds ${p.data.length} values, expected ${sizeOf(shape)}`);
    for (let i = 0; i < p.data.length; i++) {
      if (!Number.isFinite(p.data[i]!)) throw new Error(`${where}: tensor "${name}" contains a non-finite value at index ${i}`);
    }
  }
  for (const name of Object.keys(params)) {
    if (!(name in shapes)) throw new Error(`${where}: unexpected tensor "${name}" (not part of this model's config)`);
  }
}
