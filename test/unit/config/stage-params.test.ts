// A stage's parameters: the builtin knobs are validated when the config is loaded, the workflows build
// each stage's parameters with one function, and a builtin stage reads the same defaults the config has.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../config/load';
import { stageParams } from '../../../config/stage-params';
import { STAGE_NAMES, type StageRequest } from '../../../lib/stages/contract';
import { readParams, stageParamSchemas } from '../../../lib/stages/params';

const builtin = (stage: string, params: Record<string, unknown>) => ({ stages: { [stage]: { backend: 'builtin', params } } });

describe('stage parameters', () => {
  test('a builtin stage\'s knobs are checked when the config loads: an unknown knob, a bad value, each named', () => {
    assert.throws(() => parseConfig(builtin('bootstrap', { criticVision: 'eyes' }), 'c.yaml'), (err: Error) => err instanceof ConfigError && /c\.yaml: stages\.bootstrap\.params\.criticVision: .*statistics.*detector/.test(err.message));
    assert.throws(() => parseConfig(builtin('bootstrap', { humanEvidence: 'psychic' }), 'c.yaml'), /stages\.bootstrap\.params\.humanEvidence/);
    assert.throws(() => parseConfig(builtin('bootstrap', { size: 'huge' }), 'c.yaml'), /stages\.bootstrap\.params\.size/);
    assert.throws(() => parseConfig(builtin('generatorTrain', { steps: 10 }), 'c.yaml'), /stages\.generatorTrain\.params: the builtin generatorTrain stage has no knob "steps".*the generation, critic and generator sections/);
    assert.throws(() => parseConfig(builtin('sample', { batch: 0 }), 'c.yaml'), /stages\.sample\.params\.batch/);
    assert.doesNotThrow(() => parseConfig(builtin('bootstrap', { size: 'tiny', criticVision: 'detector', humanEvidence: 'graded', realVideos: 100 }), 'c.yaml'));
    // A command job takes whatever its program reads.
    assert.doesNotThrow(() => parseConfig({ stages: { sample: { backend: 'command', command: ['node', 'job.mjs'], params: { anything: [1, 2] } } } }, 'c.yaml'));
  });

  test('the workflows\' one function gives each stage the paper\'s settings it uses, then its knobs', () => {
    const config = parseConfig({ campaign: { seed: 7 }, critic: { paths: 3 }, generator: { steps: 9 }, generation: { rankBy: 'random' }, stages: { sample: { params: { batch: 8 } } } });
    assert.deepEqual(stageParams(config, 'sample', 2), { seed: 7, round: 2, promptsPerRound: 64, candidatesPerPrompt: 8, batch: 8 });
    assert.equal(stageParams(config, 'label', 1).paths, 3);
    assert.equal(stageParams(config, 'label', 1).rankBy, 'random');
    assert.equal(stageParams(config, 'generatorTrain', 1).steps, 9);
    assert.equal('rankBy' in stageParams(parseConfig({}), 'label', 1), false, 'the paper\'s ranking is not spelled out, so older campaigns\' params are unchanged');
    for (const stage of STAGE_NAMES) assert.equal(stageParams(config, stage, 1).seed, 7);
    // The critic's own labelling inside its refinement is the critic's judgement, whatever ranks the preference data.
    assert.equal('rankBy' in stageParams(config, 'label', 1, 'pseudo'), false);
    assert.equal(stageParams(config, 'label', 1, 'relabel').rankBy, 'random');
    // The critic ranks by its pairwise judgements unless critic.ranking says pointwise; a config parsed before the setting existed gets the stage's default.
    assert.equal(stageParams(parseConfig({}), 'label', 1).ranking, 'pairwise');
    assert.equal(stageParams(parseConfig({ critic: { ranking: 'pointwise' } }), 'label', 1, 'pseudo').ranking, 'pointwise');
    const older = parseConfig({});
    delete (older.critic as { ranking?: string }).ranking;
    assert.equal('ranking' in stageParams(older, 'label', 1), false);
  });

  test('a builtin stage reading the workflow\'s parameters sees exactly the config\'s values; defaults are the config\'s', () => {
    const config = parseConfig({});
    for (const stage of STAGE_NAMES) {
      const params = stageParams(config, stage, 1);
      const read = readParams(stage, { request: { stage, round: 1, params } as StageRequest }) as Record<string, unknown>;
      for (const [name, value] of Object.entries(params)) if (name !== 'pairing' && name !== 'method' && name in stageParamSchemas[stage].shape) assert.deepEqual(read[name], value, `${stage}.${name}`);
      // The same stage read with no parameters at all takes the same defaults: they are written once.
      const bare = readParams(stage, { request: { stage, round: 1, params: {} } as unknown as StageRequest }) as Record<string, unknown>;
      for (const [name, value] of Object.entries(params)) if (name !== 'seed' && name !== 'round' && name in stageParamSchemas[stage].shape) assert.deepEqual(bare[name], value, `${stage}.${name} default`);
    }
  });

  test('a bad parameter reaching a stage is a configuration error naming the stage and the parameter', () => {
    assert.throws(() => readParams('sample', { request: { stage: 'sample', round: 3, params: { promptsPerRound: 'many' } } as unknown as StageRequest }), (err: Error) => err.name === 'ConfigError' && /sample \(round 3\): param "promptsPerRound" must be a finite number, got "many"/.test(err.message));
  });
});
