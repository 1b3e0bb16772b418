// The world's coherence checks (issue 18, item 3) as measurements on fresh samples, each shown for
// the decoder's tubelets read frame by frame ("raw") and as decoded (lib/models/video.ts
// decodedVideo): frame change at the autoencoder's tubelet boundaries against elsewhere, and with
// a generator, whether dynamic degree follows the motion the prompt asks for. Usage:
//   npx tsx bench/coherence.ts [--videos 200] --ae <autoencoder.ckpt> | --fit <steps> [--real 1500]
//   npx tsx bench/coherence.ts [--videos N] [--store <dir>] --generator <checkpoint key, or file without --store> [--guidance s]
//   npx tsx bench/coherence.ts [--videos N] --ae <autoencoder.ckpt> --pretrain <steps> [--real N] [--hidden H] [--blocks B] [--guidance s] [--save <generator.ckpt>]
// --videos: 200 unless given.
// --ae: an existing (e.g. a quickstart bootstrap's) autoencoder, on its reconstructions of rendered
// videos (where the generator's jumps come from: it samples in the same latent space); --fit: one
// fitted here at quickstart size on --real rendered videos; --generator: a base generator's samples;
// --pretrain: a base generator pretrained here as the bootstrap does (quickstart sizes unless given)
// on --real rendered videos through the --ae autoencoder, then its samples (does more data or
// training make the generator follow the prompt's motion?).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { boundaryChange } from '../lib/world/coherence';
import { isDynamic, perceive, renderVideo, samplePrompts, type Perception, type Video } from '../lib/world';
import { openStore } from '../lib/artifacts';
import * as tf from '@tensorflow/tfjs';
import { encodeVideos, fitAutoencoder, latentSize, reconstructVideos, type AutoencoderConfig } from '../lib/models/autoencoder';
import { initGenerator, pretrainGenerator } from '../lib/models/generator';
import { TfOps, disposeTensors, readTensor, tensorsOf } from '../lib/models/nn/tf-ops';
import { decodeModelMetadata } from '../lib/models/onnx/proto';
import { candidateNoise, decodeGenerator, encodeGenerator, exportGeneratorOnnx, generatorOnnxBytes, loadGenerator, type GeneratorModel } from '../lib/models/generator-serving';
import { OnnxModel } from '../lib/models/onnx/runtime';
import { fitVocabulary, tokenize } from '../lib/models/text';
import { initTf } from '../lib/models/backend';
import { decodeCheckpoint } from '../lib/models/checkpoint';
import { baseGeneratorConfig, QUICKSTART } from '../lib/models/sizes';
import { decodedVideo, fromTubelets, toTubelets, tubeletCount, tubeletSize } from '../lib/models/video';

const { values } = parseArgs({
  options: { videos: { type: 'string', default: '200' }, ae: { type: 'string' }, fit: { type: 'string' }, real: { type: 'string', default: String(QUICKSTART.realVideos) }, store: { type: 'string' }, generator: { type: 'string' }, guidance: { type: 'string' }, pretrain: { type: 'string' }, hidden: { type: 'string' }, blocks: { type: 'string' }, save: { type: 'string' } },
});
await initTf(() => {});
const show = (name: string, videos: Video[]) => {
  const m = boundaryChange(videos.map((video) => ({ video, perception: perceive(video) })));
  console.log(`${name}: object move ${m.boundary.toFixed(2)} px at boundaries, ${m.elsewhere.toFixed(2)} px elsewhere (x${m.ratio.toFixed(2)}); pixel change ${m.pixelBoundary.toFixed(4)} / ${m.pixelElsewhere.toFixed(4)} (x${m.pixelRatio.toFixed(2)}); ${m.transitions} object transitions`);
};
const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
/** The generator's own sampler, at --guidance when given. */
const samplingAt = (model: GeneratorModel) => ({ ...model.config.sampler, guidance: guidance ?? model.config.sampler.guidance });
if (values.generator && values.pretrain) throw new Error('--generator samples an existing generator, --pretrain trains one: give one of them');
if (values.generator) {
  if (!values.store) {
    // A checkpoint file (e.g. one --save wrote).
    const model = decodeGenerator(await readFile(values.generator), values.generator);
    await generatorSamples(model, exportGeneratorOnnx(model, samplingAt(model)), Number(values.videos));
    process.exit(0);
  }
  const store = openStore(values.store);
  const ref = await store.head(values.generator);
  if (!ref) throw new Error(`no ${values.generator} in ${values.store}`);
  const model = await loadGenerator(store, ref);
  await generatorSamples(model, await generatorOnnxBytes(store, ref, model, samplingAt(model)), Number(values.videos));
  process.exit(0);
}
if (values.pretrain) {
  if (!values.ae) throw new Error('--pretrain needs --ae <autoencoder.ckpt> (the frozen autoencoder the generator samples through)');
  const model = await pretrainProbe(values.ae, Number(values.pretrain), Number(values.real), Number(values.hidden ?? QUICKSTART.denoiserHidden), Number(values.blocks ?? QUICKSTART.denoiserBlocks));
  if (values.save) await writeFile(values.save, encodeGenerator(model));
  await generatorSamples(model, exportGeneratorOnnx(model, samplingAt(model)), Number(values.videos));
  process.exit(0);
}
let config: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: QUICKSTART.autoencoderChannels, hidden: QUICKSTART.autoencoderHidden };
let params;
if (values.ae) {
  const ckpt = decodeCheckpoint<AutoencoderConfig>(await readFile(values.ae), values.ae, { kind: 'autoencoder' });
  ({ config, params } = ckpt);
} else {
  const steps = Number(values.fit ?? QUICKSTART.autoencoderSteps);
  const prompts = samplePrompts({ count: Number(values.real), seed: 'coherence/real' });
  const N = tubeletCount(config);
  const D = tubeletSize(config);
  const data = new Float32Array(prompts.length * N * D);
  prompts.forEach((p, i) => toTubelets(renderVideo(p.spec, { seed: `coherence/real/${i}` }).data, config, data, i * N * D));
  const started = performance.now();
  params = await fitAutoencoder(config, data, { steps, batch: QUICKSTART.autoencoderBatch, learningRate: 2e-3, seed: 'coherence' });
  console.log(`fitted ${steps} steps on ${prompts.length} videos in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
const held = samplePrompts({ count: Number(values.videos), seed: 'coherence/held-out' }).map((p, i) => renderVideo(p.spec, { seed: `coherence/held-out/${i}` }));
show('renders', held);
show('reconstructions', reconstructVideos(config, params, held));

/** The largest first-to-last displacement of a tracked object (px): how far the video's subjects travel. */
function travel(p: Perception): number {
  return Math.max(
    0,
    ...p.objects.map((o) => {
      const seen = o.detections.filter((d) => d !== undefined);
      return seen.length > 1 ? Math.hypot(seen.at(-1)!.cx - seen[0]!.cx, seen.at(-1)!.cy - seen[0]!.cy) : 0;
    }),
  );
}

/** Pearson correlation. */
function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i]! - my);
    sxx += (v - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

/** A base generator pretrained as the bootstrap's step 3b does, on `real` fresh renders encoded by a frozen autoencoder. */
async function pretrainProbe(aeFile: string, steps: number, real: number, hidden: number, blocks: number): Promise<GeneratorModel> {
  const ae = decodeCheckpoint<AutoencoderConfig>(await readFile(aeFile), aeFile, { kind: 'autoencoder' });
  const prompts = samplePrompts({ count: real, seed: 'coherence/pretrain' });
  const N = tubeletCount(ae.config);
  const PD = tubeletSize(ae.config);
  const D = latentSize(ae.config);
  const tubelets = new Float32Array(N * PD);
  const latents = new Float32Array(real * D);
  const tensors = tensorsOf(ae.params);
  try {
    const o = new TfOps(tensors);
    prompts.forEach((p, i) => {
      toTubelets(renderVideo(p.spec, { seed: `coherence/pretrain/${i}` }).data, ae.config, tubelets, 0);
      latents.set(readTensor(() => encodeVideos(o, tf.tensor(tubelets, [1, N, PD]))), i * D);
    });
  } finally {
    disposeTensors(tensors);
  }
  const q = QUICKSTART;
  const texts = prompts.map((p) => p.text);
  const config = baseGeneratorConfig(ae.config, fitVocabulary(texts), { ...q, denoiserHidden: hidden, denoiserBlocks: blocks });
  const started = performance.now();
  let last = 0;
  const params = await pretrainGenerator(config, initGenerator(config, ae.params, 'coherence'), { latents, tokens: tokenize(texts, config.text), count: real }, {
    steps,
    batch: q.pretrainBatch,
    learningRate: q.pretrainLearningRate,
    seed: 'coherence',
    onStep: (step, loss) => {
      last = 0.9 * last + 0.1 * loss;
      if (step % 500 === 0) console.log(`pretrain step ${step}/${steps}, loss ~${last.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    },
  });
  console.log(`pretrained ${steps} steps (batch ${q.pretrainBatch}) on ${real} renders, denoiser ${hidden} x ${blocks}, in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { config, params, meta: {} };
}

async function generatorSamples(model: GeneratorModel, onnx: Uint8Array, count: number): Promise<void> {
  const c = model.config;
  const session = await OnnxModel.load(onnx);
  console.log(`sampler: ${c.sampler.steps} DDIM steps, guidance ${decodeModelMetadata(onnx).guidance ?? '?'}`);
  const prompts = samplePrompts({ count, seed: 'coherence/generator' });
  const D = latentSize(c.autoencoder);
  const per = tubeletCount(c.autoencoder) * tubeletSize(c.autoencoder);
  const raw: Video[] = [];
  const decoded: Video[] = [];
  for (let start = 0; start < prompts.length; start += 64) {
    const chunk = prompts.slice(start, start + 64);
    const noise = new Float32Array(chunk.length * D);
    chunk.forEach((p, i) => noise.set(candidateNoise(`coherence/${p.id}`, D), i * D));
    const out = await session.run({ tokens: { data: tokenize(chunk.map((p) => p.text), c.text), dims: [chunk.length, c.text.maxTokens] }, noise: { data: noise, dims: [chunk.length, D] } });
    for (let i = 0; i < chunk.length; i++) {
      raw.push(fromTubelets(out.tubelets!.data, c.autoencoder, i * per));
      decoded.push(decodedVideo(out.tubelets!.data, c.autoencoder, i * per));
    }
  }
  await session.release();
  // The motion each prompt asks for: dynamic degree of its render (the prompt done right), and
  // whether any subject is asked to do anything but stay.
  const renders = prompts.map((p, i) => renderVideo(p.spec, { seed: `coherence/generator/${i}` }));
  const renderPerceptions = renders.map((v) => perceive(v));
  const askedRender = renders.map((v, i) => (isDynamic(v, renderPerceptions[i]!) ? 1 : 0));
  // The ceiling: how well one render's verdict predicts another render's of the same prompt.
  const again = prompts.map((p, i) => {
    const v = renderVideo(p.spec, { seed: `coherence/generator/${i}/again` });
    return isDynamic(v, perceive(v)) ? 1 : 0;
  });
  const askedSpec = prompts.map((p) => (p.spec.subjects.some((s) => s.action !== 'stay') ? 1 : 0));
  const renderTravel = renderPerceptions.map(travel);
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  console.log(`prompts: ${count}; renders dynamic ${mean(askedRender).toFixed(2)}; some subject asked to move ${mean(askedSpec).toFixed(2)}`);
  console.log(`renders: dynamic degree's r with their own travel ${pearson(askedRender, renderTravel).toFixed(3)}, with another render's of the same prompt ${pearson(askedRender, again).toFixed(3)}`);
  for (const [name, videos] of [['raw', raw], ['decoded', decoded]] as const) {
    show(`generator samples, ${name}`, videos);
    const perceptions = videos.map((v) => perceive(v));
    const dynamic = videos.map((v, i) => (isDynamic(v, perceptions[i]!) ? 1 : 0));
    const moved = perceptions.map(travel);
    console.log(
      `  dynamic degree ${mean(dynamic).toFixed(3)}; r with the render's ${pearson(dynamic, askedRender).toFixed(3)}, with "asked to move" ${pearson(dynamic, askedSpec).toFixed(3)}, with the sample's own travel ${pearson(dynamic, moved).toFixed(3)}; the sample's travel ${mean(moved).toFixed(2)} px (renders ${mean(renderTravel).toFixed(2)}), its r with the render's ${pearson(moved, renderTravel).toFixed(3)}`,
    );
  }
}
