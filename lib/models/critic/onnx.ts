// Serving the critic: the inference program of model.ts recorded as an ONNX graph (OnnxOps) and run
// on onnxruntime-node, plus the tfjs executor of the very same program. Both take one CriticFeed
// (pixel statistics, tokens, the paths' noise, the pairs to compare) and return the same outputs,
// so everything above them (voting, scores, agreement) is shared.
import * as tf from '@tensorflow/tfjs';
import { OnnxOps } from '../onnx/graph';
import { DataType } from '../onnx/proto';
import { OnnxModel, type RuntimeOptions } from '../onnx/runtime';
import { disposeTensors, TfOps, tensorsOf } from '../nn/tf-ops';
import { criticGraph, DIMENSIONS, type CriticConfig, type CriticModel, type GraphOutputs } from './model';
import { RATIONALE_SHAPE, RATIONALE_SIZE } from './rationale';

/** One call's inputs: `rows` videos (a video once per path) and `pairs` comparisons between rows. */
export interface CriticFeed {
  rows: number;
  pairs: number;
  /** [rows, F] */
  features: Float32Array;
  /** [rows, L] */
  tokens: Int32Array;
  /** [rows, G, C] uniform draws (the graph turns them into Gumbel noise) */
  rationaleUniform: Float32Array;
  /** [rows, D, 3] */
  verdictUniform: Float32Array;
  /** Gumbel noise x temperature; 0 = greedy. */
  temperature: number;
  /** [pairs] row indices */
  pairA: Int32Array;
  pairB: Int32Array;
  /** [pairs, D, 3] */
  pairUniform: Float32Array;
}

export type CriticOutputs = { [K in keyof GraphOutputs<unknown>]: Float32Array };

const OUTPUT_NAMES: Record<keyof GraphOutputs<unknown>, string> = {
  rationale: 'rationale',
  verdictLogp: 'verdict_logp',
  verdict: 'verdict',
  pairLogp: 'pair_logp',
  pair: 'pair',
};

/** Anything that runs the critic's inference program. */
export interface CriticExecutor {
  readonly config: CriticConfig;
  readonly kind: 'tfjs' | 'onnx';
  run(feed: CriticFeed): Promise<CriticOutputs>;
  release(): Promise<void>;
}

function dims(c: CriticConfig, feed: CriticFeed) {
  const D = DIMENSIONS.length;
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  return {
    features: [feed.rows, c.features],
    tokens: [feed.rows, c.text.maxTokens],
    rationaleUniform: [feed.rows, G, C],
    verdictUniform: [feed.rows, D, 3],
    temperature: [1],
    pairA: [feed.pairs],
    pairB: [feed.pairs],
    pairUniform: [feed.pairs, D, 3],
  } as const;
}

/** The tfjs executor (training's own forward pass, used for parity and when no session is open). */
export class CriticTf implements CriticExecutor {
  readonly kind = 'tfjs';
  readonly config: CriticConfig;
  private readonly tensors: Record<string, tf.Tensor>;
  constructor(model: CriticModel) {
    this.config = model.config;
    this.tensors = tensorsOf(model.params);
  }
  async run(feed: CriticFeed): Promise<CriticOutputs> {
    const d = dims(this.config, feed);
    return tf.tidy(() => {
      const o = new TfOps(this.tensors);
      const out = criticGraph(
        o,
        {
          features: tf.tensor(feed.features, [...d.features]),
          tokens: tf.tensor(feed.tokens, [...d.tokens], 'int32'),
          rationaleUniform: tf.tensor(feed.rationaleUniform, [...d.rationaleUniform]),
          verdictUniform: tf.tensor(feed.verdictUniform, [...d.verdictUniform]),
          temperature: tf.tensor([feed.temperature], [1]),
          pairA: tf.tensor(feed.pairA, [...d.pairA], 'int32'),
          pairB: tf.tensor(feed.pairB, [...d.pairB], 'int32'),
          pairUniform: tf.tensor(feed.pairUniform, [...d.pairUniform]),
        },
        this.config,
      );
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dataSync() as Float32Array])) as CriticOutputs;
    });
  }
  async release(): Promise<void> {
    disposeTensors(this.tensors);
  }
}

/** The critic's inference program as ONNX bytes (opset 17; batch and pair counts are symbolic). */
export function exportCriticOnnx(model: CriticModel): Uint8Array {
  const c = model.config;
  const D = DIMENSIONS.length;
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const o = new OnnxOps(model.params);
  const out = criticGraph(
    o,
    {
      features: o.input('features', ['batch', c.features]),
      tokens: o.input('tokens', ['batch', c.text.maxTokens], DataType.INT32),
      rationaleUniform: o.input('rationale_uniform', ['batch', G, C]),
      verdictUniform: o.input('verdict_uniform', ['batch', D, 3]),
      temperature: o.input('temperature', [1]),
      pairA: o.input('pair_a', ['pairs'], DataType.INT32),
      pairB: o.input('pair_b', ['pairs'], DataType.INT32),
      pairUniform: o.input('pair_uniform', ['pairs', D, 3]),
    },
    c,
  );
  return o.build(
    [
      { name: OUTPUT_NAMES.rationale, value: out.rationale, shape: ['batch', RATIONALE_SIZE] },
      { name: OUTPUT_NAMES.verdictLogp, value: out.verdictLogp, shape: ['batch', D * 3] },
      { name: OUTPUT_NAMES.verdict, value: out.verdict, shape: ['batch', D * 3] },
      { name: OUTPUT_NAMES.pairLogp, value: out.pairLogp, shape: ['pairs', D * 3] },
      { name: OUTPUT_NAMES.pair, value: out.pair, shape: ['pairs', D * 3] },
    ],
    {
      graphName: 'dual_ipo_critic',
      docString: 'Dual-IPO critic: rationale, then pointwise (Bad/Normal/Good) and pairwise (A/B/tie) verdicts per dimension, sampled from the noise inputs',
      metadata: { kind: 'critic', featureVersion: String(c.featureVersion), vocab: JSON.stringify(c.text.vocab), dimensions: DIMENSIONS.join(',') },
    },
  );
}

/** The critic served by onnxruntime-node. */
export class CriticOnnx implements CriticExecutor {
  readonly kind = 'onnx';
  private constructor(
    readonly config: CriticConfig,
    private readonly session: OnnxModel,
  ) {}

  static async create(model: CriticModel, opts: RuntimeOptions = {}): Promise<CriticOnnx> {
    return new CriticOnnx(model.config, await OnnxModel.load(exportCriticOnnx(model), opts));
  }

  async run(feed: CriticFeed): Promise<CriticOutputs> {
    const d = dims(this.config, feed);
    const result = await this.session.run(
      {
        features: { data: feed.features, dims: d.features },
        tokens: { data: feed.tokens, dims: d.tokens },
        rationale_uniform: { data: feed.rationaleUniform, dims: d.rationaleUniform },
        verdict_uniform: { data: feed.verdictUniform, dims: d.verdictUniform },
        temperature: { data: Float32Array.of(feed.temperature), dims: d.temperature },
        pair_a: { data: feed.pairA, dims: d.pairA },
        pair_b: { data: feed.pairB, dims: d.pairB },
        pair_uniform: { data: feed.pairUniform, dims: d.pairUniform },
      },
      Object.values(OUTPUT_NAMES),
    );
    return Object.fromEntries(Object.entries(OUTPUT_NAMES).map(([k, name]) => [k, result[name]!.data])) as CriticOutputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
