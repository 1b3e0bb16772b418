// The CogVideoX example configs: the full-size campaign (GPU queues, real model folders, the paper's
// settings) and its tiny CPU twin are valid configs whose every stage runs its Python reference job.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load';
import { stageParams } from '../../../config/stage-params';
import { STAGE_NAMES } from '../../../lib/stages/contract';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JOBS: Record<string, string> = { pceFilter: 'pce_filter', criticTrain: 'critic_train', generatorTrain: 'generator_train' };
const job = (stage: string) => JOBS[stage] ?? stage;

describe('config/examples/cogvideox.yaml (full size)', () => {
  const c = loadConfig(join(ROOT, 'config/examples/cogvideox.yaml'));

  test('every stage runs its reference job on the gpu queue', () => {
    for (const stage of STAGE_NAMES) {
      const s = c.stages[stage];
      assert.equal(s.backend, 'command', stage);
      assert.deepEqual(s.command, ['python', '-m', `dual_ipo_jobs.jobs.${job(stage)}`], stage);
      assert.equal(s.taskQueue, 'gpu', stage);
      assert.equal(s.params.device, 'cuda', stage);
      assert.ok(existsSync(join(ROOT, 'python', 'dual_ipo_jobs', 'jobs', `${job(stage)}.py`)), `${stage}'s job exists`);
    }
  });

  test('model folders are local paths, evaluation is the real VBench with local weights', () => {
    for (const stage of ['bootstrap', 'sample', 'generatorTrain', 'evaluate'] as const) assert.equal(c.stages[stage].params.baseModel, '/models/CogVideoX-2b', stage);
    for (const stage of ['bootstrap', 'label', 'pceFilter', 'criticTrain', 'validate'] as const) assert.equal(c.stages[stage].params.criticModel, '/models/Qwen2-VL-7B-Instruct', stage);
    assert.equal(c.stages.evaluate.params.scorer, 'vbench');
    assert.equal(c.stages.evaluate.params.vbenchCacheDir, '/models/vbench');
    assert.equal(c.stages.bootstrap.params.tiny, undefined);
  });

  test("the paper's settings reach the jobs", () => {
    assert.equal(c.generation.candidatesPerPrompt, 8);
    assert.equal(c.gates.critic.threshold, 0.75);
    assert.equal(c.campaign.maxRounds, 3);
    const gen = stageParams(c, 'generatorTrain', 1);
    assert.deepEqual([gen.method, gen.betaDpo, gen.lambdaReal, gen.learningRate], ['dpo', 5000, 0.5, 2e-6]);
    const critic = stageParams(c, 'criticTrain', 1);
    assert.deepEqual([critic.loss, critic.beta, critic.learningRate, critic.epochs], ['srpo', 0.1, 2e-5, 5]);
    assert.equal(stageParams(c, 'label', 1).paths, 8);
    assert.equal(stageParams(c, 'bootstrap', 0).evalPrompts, 946);
    assert.equal(stageParams(c, 'sample', 2).promptsPerRound, 12800);
  });
});

describe('config/examples/cogvideox-tiny.yaml', () => {
  test('one round, every stage a reference job from this checkout on tiny models and the labelled stand-in scorer', () => {
    const c = loadConfig(join(ROOT, 'config/examples/cogvideox-tiny.yaml'));
    assert.equal(c.campaign.maxRounds, 1);
    for (const stage of STAGE_NAMES) assert.deepEqual(c.stages[stage].command, ['.tools/py-jobs/bin/python', 'python/run_job.py', job(stage)], stage);
    assert.equal(c.stages.bootstrap.params.tiny, true);
    assert.equal(c.stages.evaluate.params.scorer, 'standin');
  });
});
