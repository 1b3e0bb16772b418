// Throughput of the reference models, measured in one run on this machine and expressed against the
// machine's own matrix-multiply peak measured in the same run (so the ratios stay meaningful on a
// loaded or a faster machine):
//
//   peak        onnxruntime MatMul (1024 x 1024 x 1024) GFLOP/s at the serving thread count, and
//               tfjs's (the training backend's) at the same size
//   sampling    videos/s of the quickstart-size sampler (20 DDIM steps with guidance + decoder) on
//               onnxruntime-node vs the same program and weights in tfjs; achieved GFLOP/s / peak
//   labelling   (videos x reasoning paths)/s of the critic, end to end (pixel statistics included)
//               for its network with the JS around it (feed, voting), and for the onnxruntime
//               session call alone (the inference kernels)
//   training    steps/s of base pretraining, Diffusion-DPO and the autoencoder fit; GFLOP/s / tfjs peak
//
// Weights are freshly initialised at the quickstart sizes: throughput does not depend on their values.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initTf } from '../lib/models/backend';
import { autoencoderParamShapes, fitAutoencoder, latentSize } from '../lib/models/autoencoder';
import { CRITIC_VISIONS, CriticOnnx, DEFAULT_CRITIC, initCritic, judgeVideos, videoFeatures } from '../lib/models/critic';
import { DEFAULT_SCHEDULE } from '../lib/models/diffusion';
import { denoiserMacs, initGenerator, pretrainGenerator, samplerMacs, type GeneratorConfig } from '../lib/models/generator';
import { alignGenerator } from '../lib/models/generator-align';
import { exportGeneratorOnnx, OnnxGenerator, sampleWithTf, type GeneratorModel } from '../lib/models/generator-serving';
import { initParams } from '../lib/models/nn/params';
import { Random } from '../lib/models/nn/random';
import { readTensor } from '../lib/models/nn/tf-ops';
import { OnnxOps } from '../lib/models/onnx/graph';
import { OnnxModel } from '../lib/models/onnx/runtime';
import { QUICKSTART } from '../lib/models/sizes';
import { fitVocabulary, tokenize } from '../lib/models/text';
import { tubeletCount, tubeletSize } from '../lib/models/video';
import { renderVideo, samplePrompts } from '../lib/world';

const log = (line: string) => console.error(`  ${line}`);

/** Runs `f` repeatedly for about `seconds` (after one warm-up call) and returns calls per second. */
async function rate(f: () => Promise<unknown> | unknown, seconds: number, minCalls = 2): Promise<number> {
  await f();
  const start = performance.now();
  let calls = 0;
  while (calls < minCalls || performance.now() - start < seconds * 1000) {
    await f();
    calls++;
  }
  return calls / ((performance.now() - start) / 1000);
}

/**
 * onnxruntime's matmul throughput on a chain of `depth` [rows, n] x [n, n] products in one call (so
 * the per-call overhead is amortised, as in the sampler's single call): the best of a few shapes.
 */
async function onnxMatmulPeak(threads: number, seconds: number): Promise<number> {
  let best = 0;
  for (const [rows, n, depth] of [
    [1024, 1024, 1],
    [512, 512, 16],
    [256, 1024, 8],
  ] as const) {
    const params = Object.fromEntries(Array.from({ length: depth }, (_, i) => [`w${i}`, { shape: [n, n], data: new Random('peak-w', i).normals(n * n, 1 / Math.sqrt(n)) }]));
    const g = new OnnxOps(params);
    let h = g.input('x', ['batch', n]);
    for (let i = 0; i < depth; i++) h = g.matmul(h, g.param(`w${i}`));
    const model = await OnnxModel.load(g.build([{ name: 'y', value: h, shape: ['batch', n] }], { graphName: 'peak' }), { threads });
    const x = new Random('peak-x').normals(rows * n);
    const calls = await rate(() => model.run({ x: { data: x, dims: [rows, n] } }), seconds / 3);
    await model.release();
    best = Math.max(best, (2 * rows * n * n * depth * calls) / 1e9);
  }
  return best;
}

/** tfjs's matmul throughput on the training backend at training-like shapes (activations x weight variable): the best of a few. */
async function tfMatmulPeak(seconds: number): Promise<number> {
  let best = 0;
  for (const [m, k, n] of [
    [1024, 768, 256],
    [512, 512, 512],
    [256, 1024, 512],
  ] as const) {
    const a = tf.tensor2d(new Random('tf-peak-a').normals(m * k), [m, k]);
    const b = tf.variable(tf.tensor2d(new Random('tf-peak-b').normals(k * n, 0.03), [k, n]));
    const calls = await rate(() => readTensor(() => tf.matMul(a, b)), seconds / 3);
    tf.dispose([a, b]);
    best = Math.max(best, (2 * m * k * n * calls) / 1e9);
  }
  return best;
}

/** Matmul MACs per row of the critic's network (every weight matrix applied once per video-path row). */
function criticMacsPerRow(params: Record<string, { shape: number[] }>): number {
  return Object.entries(params)
    .filter(([name, p]) => p.shape.length === 2 && !name.endsWith('.table'))
    .reduce((sum, [, p]) => sum + p.shape[0]! * p.shape[1]!, 0);
}

export function quickstartGenerator(vocab: string[]): GeneratorModel {
  const s = QUICKSTART;
  const config: GeneratorConfig = {
    autoencoder: { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: s.autoencoderChannels, hidden: s.autoencoderHidden },
    text: { vocab, maxTokens: s.maxTokens, embed: s.textEmbed, hidden: s.textHidden, out: s.textOut },
    denoiser: { hidden: s.denoiserHidden, blocks: s.denoiserBlocks, timeEmbed: 128 },
    schedule: DEFAULT_SCHEDULE,
    sampler: { steps: s.samplerSteps, guidance: s.guidance, clipLatent: 4 },
  };
  const ae = initParams(autoencoderParamShapes(config.autoencoder), 'bench-ae');
  ae['ae.norm.std']!.data.fill(1);
  return { config, params: initGenerator(config, ae, 'bench'), meta: {} };
}

export async function benchModels(opts: { quick?: boolean } = {}): Promise<Record<string, number>> {
  const quick = opts.quick ?? false;
  const seconds = quick ? 1.5 : 4;
  const threads = Math.min(2, availableParallelism());
  const choice = await initTf(() => {});
  log(`tfjs backend: ${choice.backend}; onnxruntime threads: ${threads}`);
  const out: Record<string, number> = {};

  // Peak.
  out.peak_tfjs_matmul_gflops = await tfMatmulPeak(seconds);
  out.peak_onnx_matmul_gflops = await onnxMatmulPeak(threads, seconds);
  log(`matmul peak: onnxruntime ${out.peak_onnx_matmul_gflops.toFixed(1)} GFLOP/s, tfjs ${out.peak_tfjs_matmul_gflops.toFixed(1)} GFLOP/s`);

  // Sampling: the same weights and requests on both executors.
  const prompts = samplePrompts({ count: 256, seed: 'bench' });
  const vocab = fitVocabulary(prompts.map((p) => p.text));
  const model = quickstartGenerator(vocab);
  const gflopPerVideo = (2 * samplerMacs(model.config)) / 1e9;
  const batch = 64;
  const requests = prompts.slice(0, batch).map((p, i) => ({ prompt: p.text, seed: i }));
  const gen = await OnnxGenerator.create(model, exportGeneratorOnnx(model), { threads });
  out.sampling_onnx_videos_per_s = batch * (await rate(() => gen.sample(requests, { batch }), seconds));
  await gen.release();
  const tfRequests = requests.slice(0, quick ? 8 : 16);
  out.sampling_tfjs_videos_per_s = tfRequests.length * (await rate(() => sampleWithTf(model, tfRequests), seconds, 1));
  out.sampling_onnx_over_tfjs = out.sampling_onnx_videos_per_s / out.sampling_tfjs_videos_per_s;
  out.sampling_onnx_gflops = out.sampling_onnx_videos_per_s * gflopPerVideo;
  out.sampling_onnx_share_of_peak = out.sampling_onnx_gflops / out.peak_onnx_matmul_gflops;
  out.sampling_tfjs_share_of_tfjs_peak = (out.sampling_tfjs_videos_per_s * gflopPerVideo) / out.peak_tfjs_matmul_gflops;
  log(`sampling: onnxruntime ${out.sampling_onnx_videos_per_s.toFixed(1)} videos/s, tfjs ${out.sampling_tfjs_videos_per_s.toFixed(2)} videos/s (x${out.sampling_onnx_over_tfjs.toFixed(1)}); ${(100 * out.sampling_onnx_share_of_peak).toFixed(0)}% of peak`);

  // Labelling: the quickstart critic, 8 paths per video.
  const critic = initCritic(DEFAULT_CRITIC, vocab, 'bench');
  const paths = 8;
  const videos = prompts.slice(0, 64).map((p, i) => ({ prompt: p.text, video: renderVideo(p.spec, { seed: i }) }));
  const exec = await CriticOnnx.create(critic, { threads });
  const endToEnd = await rate(() => judgeVideos(exec, videos, { paths }), seconds, 1);
  out.labelling_video_paths_per_s = endToEnd * videos.length * paths;
  const withFeatures = videos.map((v) => ({ prompt: v.prompt, features: videoFeatures(v.video) }));
  // The session call alone (the inference kernels) is timed inside the same runs: the rest is the
  // feed (uniform draws, tokens) and voting in JS.
  let kernelMs = 0;
  let kernelRows = 0;
  const timed: typeof exec = Object.assign(Object.create(exec) as typeof exec, {
    run: async (feed: Parameters<typeof exec.run>[0]) => {
      const t = performance.now();
      const result = await exec.run(feed);
      kernelMs += performance.now() - t;
      kernelRows += feed.rows;
      return result;
    },
  });
  out.labelling_network_video_paths_per_s = (await rate(() => judgeVideos(timed, withFeatures, { paths }), seconds, 1)) * videos.length * paths;
  out.labelling_network_gflops = (out.labelling_network_video_paths_per_s * 2 * criticMacsPerRow(critic.params)) / 1e9;
  out.labelling_network_share_of_peak = out.labelling_network_gflops / out.peak_onnx_matmul_gflops;
  out.labelling_kernel_video_paths_per_s = kernelRows / (kernelMs / 1000);
  out.labelling_kernel_share_of_peak = (out.labelling_kernel_video_paths_per_s * 2 * criticMacsPerRow(critic.params)) / 1e9 / out.peak_onnx_matmul_gflops;
  out.pixel_statistics_videos_per_s = await rate(() => videoFeatures(videos[0]!.video), seconds / 2);
  // The detector tower (criticVision: detector) adds the world's perception to every video's features.
  out.detector_features_videos_per_s = await rate(() => videoFeatures(videos[1]!.video, CRITIC_VISIONS.detector), seconds / 2);
  await exec.release();
  log(`labelling: ${out.labelling_video_paths_per_s.toFixed(0)} video-paths/s end to end, ${out.labelling_network_video_paths_per_s.toFixed(0)} for the network with its feed and voting (${(100 * out.labelling_network_share_of_peak).toFixed(0)}% of peak), ${out.labelling_kernel_video_paths_per_s.toFixed(0)} in the onnxruntime session call (${(100 * out.labelling_kernel_share_of_peak).toFixed(0)}% of peak)`);

  // Training.
  const D = latentSize(model.config.autoencoder);
  const count = 256;
  const data = { latents: new Random('bench-latents').normals(count * D), tokens: tokenize(prompts.map((p) => p.text), model.config.text), count };
  const trainSteps = quick ? 6 : 15;
  let t0 = 0;
  await pretrainGenerator(model.config, model.params, data, {
    steps: trainSteps + 2,
    batch: QUICKSTART.pretrainBatch,
    learningRate: 1e-4,
    seed: 'bench',
    onStep: (s) => {
      if (s === 2) t0 = performance.now();
    },
  });
  out.pretrain_steps_per_s = trainSteps / ((performance.now() - t0) / 1000);
  // Forward + backward = 3x the forward MACs, 2 FLOPs each.
  out.pretrain_gflops = (out.pretrain_steps_per_s * QUICKSTART.pretrainBatch * 6 * denoiserMacs(model.config)) / 1e9;
  out.pretrain_share_of_tfjs_peak = out.pretrain_gflops / out.peak_tfjs_matmul_gflops;
  const pairs = Array.from({ length: 32 }, (_, i) => ({ prompt: prompts[i]!.text, chosen: data.latents.subarray(i * D, (i + 1) * D), rejected: data.latents.subarray((i + 32) * D, (i + 33) * D) }));
  let t1 = 0;
  await alignGenerator(model, { pairs, real: data }, {
    method: 'dpo',
    betaDpo: 5000,
    betaKto: 1000,
    lambdaPreferred: 0,
    lambdaReal: 0.5,
    learningRate: 1e-5,
    steps: trainSteps + 2,
    batch: 8,
    seed: 'bench',
    evalDraws: 1,
    onStep: (s) => {
      if (s === 2) t0 = performance.now();
      if (s === trainSteps + 2) t1 = performance.now();
    },
  });
  out.dpo_steps_per_s = trainSteps / ((t1 - t0) / 1000);
  const ae = model.config.autoencoder;
  const tubelets = new Random('bench-tubelets').normals(16 * tubeletCount(ae) * tubeletSize(ae)).map((v) => 1 / (1 + Math.exp(-v)));
  t0 = 0;
  await fitAutoencoder(ae, tubelets, { steps: trainSteps + 2, batch: QUICKSTART.autoencoderBatch, learningRate: 1e-3, seed: 'bench', onStep: (s) => void (s === 2 ? (t0 = performance.now()) : 0) });
  out.autoencoder_steps_per_s = trainSteps / ((performance.now() - t0) / 1000);
  // Load on a shared machine moves every figure; the peak is measured again at the end and the two
  // measurements averaged, so that the shares above compare like with like.
  const peakAfter = await onnxMatmulPeak(threads, seconds);
  const tfPeakAfter = await tfMatmulPeak(seconds);
  const rescale = (peakBefore: number, after: number) => (peakBefore + after) / 2 / peakBefore;
  const onnxScale = rescale(out.peak_onnx_matmul_gflops, peakAfter);
  const tfScale = rescale(out.peak_tfjs_matmul_gflops, tfPeakAfter);
  out.peak_onnx_matmul_gflops *= onnxScale;
  out.peak_tfjs_matmul_gflops *= tfScale;
  out.sampling_onnx_share_of_peak /= onnxScale;
  out.labelling_network_share_of_peak /= onnxScale;
  out.labelling_kernel_share_of_peak /= onnxScale;
  out.sampling_tfjs_share_of_tfjs_peak /= tfScale;
  out.pretrain_share_of_tfjs_peak /= tfScale;
  log(`training: pretrain ${out.pretrain_steps_per_s.toFixed(2)} steps/s (${(100 * out.pretrain_share_of_tfjs_peak).toFixed(0)}% of tfjs peak), DPO ${out.dpo_steps_per_s.toFixed(2)} steps/s, autoencoder ${out.autoencoder_steps_per_s.toFixed(2)} steps/s`);
  return out;
}
