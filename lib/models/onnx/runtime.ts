// Serving on onnxruntime-node: sessions from in-memory ONNX bytes, a thread count from the config,
// and named float32 / int32 inputs. Sampling and labelling run here (paper appendix G.1: that is
// where the compute goes); tfjs is only used to train.
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';

export interface RuntimeOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
}

export type Feed = Record<string, { data: Float32Array | Int32Array; dims: readonly number[] }>;

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly threads: number,
  ) {}

  static async load(bytes: Uint8Array, opts: RuntimeOptions = {}): Promise<OnnxModel> {
    const threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxModel(session, threads);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Runs the graph and returns the requested outputs as Float32Arrays with their dims. */
  async run(feed: Feed, outputs?: readonly string[]): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { data, dims }] of Object.entries(feed)) {
      feeds[name] = new ort.Tensor(data instanceof Int32Array ? 'int32' : 'float32', data, [...dims]);
    }
    const result = outputs ? await this.session.run(feeds, [...outputs]) : await this.session.run(feeds);
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export const onnxRuntimeVersion = (): string => {
  const env = ort.env as unknown as { versions?: Record<string, string> };
  return env.versions?.common ?? env.versions?.node ?? 'unknown';
};
