// Serving the generator: its checkpoint (weights + config, lib/models/checkpoint.ts), the ONNX
// export of its sampler (one graph: text encoder, unrolled DDIM with guidance, decoder), and batched
// sampling on onnxruntime-node, with a tfjs twin of the same program for the parity test and the
// benchmark. Noise comes from per-candidate seeds drawn in JS, so a candidate is reproducible alone.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import type { Video } from '../world';
import { latentSize } from './autoencoder';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, type Checkpoint } from './checkpoint';
import { GENERATOR_KIND, generatorParamShapes, nullCondition, sampler, type GeneratorConfig, type SamplerConfig } from './generator';
import type { ParamSet } from './nn/params';
import { Random } from './nn/random';
import { TfOps, disposeTensors, tensorsOf } from './nn/tf-ops';
import { OnnxOps } from './onnx/graph';
import { decodeModelMetadata, DataType } from './onnx/proto';
import { OnnxModel, type RuntimeOptions } from './onnx/runtime';
import { tokenize } from './text';
import { decodedVideo, tubeletCount, tubeletSize } from './video';

export interface GeneratorModel {
  config: GeneratorConfig;
  params: ParamSet;
  meta: Record<string, unknown>;
}

export function encodeGenerator(model: GeneratorModel): Uint8Array {
  return encodeCheckpoint({ kind: GENERATOR_KIND, config: model.config, meta: model.meta, params: model.params });
}

export function decodeGenerator(bytes: Uint8Array, file: string): GeneratorModel {
  const ckpt = decodeCheckpoint<GeneratorConfig>(bytes, file, { kind: GENERATOR_KIND, shapesFor: generatorParamShapes });
  return { config: ckpt.config, params: ckpt.params, meta: ckpt.meta };
}

/** sha256 of the weights' bytes in checkpoint order: ties an exported ONNX file to its weights. */
export function weightsDigest(params: ParamSet): string {
  const h = createHash('sha256');
  for (const name of Object.keys(params).sort()) {
    const d = params[name]!.data;
    h.update(name).update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

/** The sampler as ONNX: inputs tokens int32 [B, L], noise [B, D]; outputs latent [B, D], tubelets [B, N, P]. */
export function exportGeneratorOnnx(model: GeneratorModel, sampling: SamplerConfig = model.config.sampler): Uint8Array {
  const c = model.config;
  const D = latentSize(c.autoencoder);
  const g = new OnnxOps(model.params);
  const tokens = g.input('tokens', ['batch', c.text.maxTokens], DataType.INT32);
  const noise = g.input('noise', ['batch', D]);
  const out = sampler(g, tokens, noise, c, nullCondition(c, model.params), sampling);
  return g.build(
    [
      { name: 'latent', value: out.latent, shape: ['batch', D] },
      { name: 'tubelets', value: out.tubelets, shape: ['batch', tubeletCount(c.autoencoder), tubeletSize(c.autoencoder)] },
    ],
    {
      graphName: 'dual_ipo_generator_sampler',
      docString: `Dual-IPO reference generator: DDIM ${sampling.steps} steps, guidance ${sampling.guidance}`,
      metadata: { weightsSha256: weightsDigest(model.params), steps: String(sampling.steps), guidance: String(sampling.guidance), clipLatent: String(sampling.clipLatent) },
    },
  );
}

/** The ONNX file of a checkpoint lives next to it: `<key>.onnx`. */
export const onnxKeyOf = (checkpointKey: string) => `${checkpointKey}.onnx`;

/** Writes checkpoint and ONNX export; the checkpoint's ref carries the ONNX file's sha256 in its summary. */
export async function saveGenerator(store: ArtifactStore, key: string, model: GeneratorModel, summary: ArtifactRef['summary'] = {}): Promise<ArtifactRef> {
  const onnx = await store.put(onnxKeyOf(key), exportGeneratorOnnx(model));
  return store.put(key, encodeGenerator(model), { summary: { kind: GENERATOR_KIND, onnxSha256: onnx.sha256, ...summary } });
}

export async function loadGenerator(store: ArtifactStore, ref: ArtifactRef): Promise<GeneratorModel> {
  const ckpt: Checkpoint<GeneratorConfig> = await loadCheckpoint<GeneratorConfig>(store, ref, { kind: GENERATOR_KIND, shapesFor: generatorParamShapes });
  return { config: ckpt.config, params: ckpt.params, meta: ckpt.meta };
}

/**
 * The ONNX sampler of a stored checkpoint: the exported file beside it when it is there, verified
 * (store sha256, and its metadata names these very weights and sampler settings), else a fresh export.
 */
export async function generatorOnnxBytes(store: ArtifactStore, ref: ArtifactRef, model: GeneratorModel, sampling: SamplerConfig = model.config.sampler): Promise<Uint8Array> {
  const key = onnxKeyOf(store.keyOf(ref.uri));
  const head = await store.head(key).catch(() => undefined);
  if (head) {
    const bytes = await store.get(head);
    const meta = decodeModelMetadata(bytes);
    if (meta.weightsSha256 === weightsDigest(model.params) && meta.steps === String(sampling.steps) && meta.guidance === String(sampling.guidance) && meta.clipLatent === String(sampling.clipLatent)) return bytes;
    if (meta.weightsSha256 !== weightsDigest(model.params)) throw new CheckpointError(`ONNX export ${head.uri}: metadata.weightsSha256 does not match the checkpoint's weights`);
  }
  return exportGeneratorOnnx(model, sampling);
}

/** A request: the prompt text and the noise seed of one candidate. */
export interface SampleRequest {
  prompt: string;
  seed: number | string;
}

export interface SampleResult {
  /** Normalised latents x_0, [N, D] row-major. */
  latents: Float32Array;
  videos: Video[];
}

/** Initial noise x_T of a candidate: N(0, 1) from its seed alone. */
export function candidateNoise(seed: number | string, dim: number): Float32Array {
  return new Random('generator-noise', seed).normals(dim);
}

/** Batched sampling on onnxruntime-node. */
export class OnnxGenerator {
  private constructor(
    readonly model: GeneratorModel,
    private readonly session: OnnxModel,
  ) {}

  static async create(model: GeneratorModel, bytes: Uint8Array = exportGeneratorOnnx(model), runtime: RuntimeOptions = {}): Promise<OnnxGenerator> {
    return new OnnxGenerator(model, await OnnxModel.load(bytes, runtime));
  }

  async sample(requests: readonly SampleRequest[], opts: { batch?: number; onBatch?: (done: number) => Promise<void> | void } = {}): Promise<SampleResult> {
    const c = this.model.config;
    const D = latentSize(c.autoencoder);
    const batch = Math.max(1, opts.batch ?? 64);
    const latents = new Float32Array(requests.length * D);
    const videos: Video[] = [];
    const per = tubeletCount(c.autoencoder) * tubeletSize(c.autoencoder);
    for (let start = 0; start < requests.length; start += batch) {
      const chunk = requests.slice(start, start + batch);
      const noise = new Float32Array(chunk.length * D);
      chunk.forEach((r, i) => noise.set(candidateNoise(r.seed, D), i * D));
      const out = await this.session.run({
        tokens: { data: tokenize(chunk.map((r) => r.prompt), c.text), dims: [chunk.length, c.text.maxTokens] },
        noise: { data: noise, dims: [chunk.length, D] },
      });
      latents.set(out.latent!.data, start * D);
      for (let i = 0; i < chunk.length; i++) videos.push(decodedVideo(out.tubelets!.data, c.autoencoder, i * per));
      await opts.onBatch?.(start + chunk.length);
    }
    return { latents, videos };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The same sampler run eagerly in tfjs (parity test, benchmark). */
export function sampleWithTf(model: GeneratorModel, requests: readonly SampleRequest[], sampling: SamplerConfig = model.config.sampler): SampleResult {
  const c = model.config;
  const D = latentSize(c.autoencoder);
  const tensors = tensorsOf(model.params);
  try {
    const o = new TfOps(tensors);
    const noise = new Float32Array(requests.length * D);
    requests.forEach((r, i) => noise.set(candidateNoise(r.seed, D), i * D));
    const nullCond = nullCondition(c, model.params);
    // Tensors out of the tidy scope, then read (tidy would walk a returned array element by element).
    const [latentT, tubeletsT] = tf.tidy(() => {
      const tokens = tf.tensor2d(tokenize(requests.map((r) => r.prompt), c.text), [requests.length, c.text.maxTokens], 'int32');
      const out = sampler(o, tokens, tf.tensor2d(noise, [requests.length, D]), c, nullCond, sampling);
      return [out.latent, out.tubelets];
    });
    const latent = new Float32Array(latentT.dataSync());
    const tubelets = tubeletsT.dataSync() as Float32Array;
    const videos = requests.map((_, i) => decodedVideo(tubelets, c.autoencoder, i * tubeletCount(c.autoencoder) * tubeletSize(c.autoencoder)));
    tf.dispose([latentT, tubeletsT]);
    return { latents: latent, videos };
  } finally {
    disposeTensors(tensors);
  }
}
