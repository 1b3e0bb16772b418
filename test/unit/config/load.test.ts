// The campaign config: paper defaults, and invalid input rejected before anything starts, naming
// the file, the field and the expected form.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configDigest, loadConfig, parseConfig } from '../../../config/load';
import { outputPrefix } from '../../../lib/artifacts/manifest';
import { shardPlan, shardRange } from '../../../config/stage-params';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('campaign config', () => {
  test('sharding: shardSize and maxParallel on sample, label and evaluate, validated with clear errors; absent means one activity', () => {
    const plain = parseConfig({});
    assert.equal(shardPlan(plain, 'sample'), undefined);
    assert.ok(!('shardSize' in plain.stages.sample), 'an unsharded config carries no sharding fields (its hash is unchanged)');
    const c = parseConfig({ generation: { promptsPerRound: 10, evalPrompts: 7 }, stages: { sample: { shardSize: 3, maxParallel: 2 }, evaluate: { shardSize: 5 } } });
    assert.deepEqual(shardPlan(c, 'sample'), { prompts: 10, shardSize: 3, maxParallel: 2, shards: 4 });
    assert.deepEqual(shardPlan(c, 'evaluate'), { prompts: 7, shardSize: 5, maxParallel: 8, shards: 2 });
    assert.deepEqual(shardRange(shardPlan(c, 'sample')!, 3), { from: 9, to: 10 });
    const refused = (stages: Record<string, unknown>, message: RegExp) => assert.throws(() => parseConfig({ stages }), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(stages));
    refused({ pceFilter: { shardSize: 4 } }, /stages\.pceFilter\.shardSize: the pceFilter stage cannot be sharded \(only sample, label, evaluate/);
    refused({ label: { maxParallel: 4 } }, /stages\.label\.maxParallel: maxParallel bounds the shards in flight: set shardSize/);
    refused({ sample: { shardSize: 0 } }, /stages\.sample\.shardSize/);
    refused({ sample: { shardSize: 2, maxParallel: 1.5 } }, /stages\.sample\.maxParallel/);
  });

  test('command jobs: gpusPerJob and env, validated by field; absent from configs that do not set them', () => {
    const plain = parseConfig({});
    assert.ok(!('gpusPerJob' in plain.stages.generatorTrain) && !('env' in plain.stages.generatorTrain), 'configs without them keep their hash');
    const command = { backend: 'command', command: ['node', 'examples/jobs/stage-job.mjs'], taskQueue: 'gpu-node' };
    const c = parseConfig({ stages: { generatorTrain: { ...command, gpusPerJob: 8, env: { allow: ['WANDB_*', 'HF_TOKEN'], set: { WANDB_PROJECT: 'x' } } } } });
    assert.equal(c.stages.generatorTrain.gpusPerJob, 8);
    assert.deepEqual(c.stages.generatorTrain.env, { allow: ['WANDB_*', 'HF_TOKEN'], set: { WANDB_PROJECT: 'x' } });
    const refused = (stages: Record<string, unknown>, message: RegExp) => assert.throws(() => parseConfig({ stages }), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(stages));
    refused({ generatorTrain: { ...command, gpusPerJob: 0 } }, /stages\.generatorTrain\.gpusPerJob/);
    refused({ generatorTrain: { gpusPerJob: 2 } }, /stages\.generatorTrain\.gpusPerJob: only a command job/);
    refused({ generatorTrain: { ...command, env: { allow: ['A B'] } } }, /stages\.generatorTrain\.env\.allow\.0/);
    refused({ generatorTrain: { ...command, env: { set: { CUDA_VISIBLE_DEVICES: '0' } } } }, /stages\.generatorTrain\.env\.set\.CUDA_VISIBLE_DEVICES: set by the worker/);
    refused({ generatorTrain: { ...command, env: { pass: [] } } }, /stages\.generatorTrain\.env/);
  });

  test('defaults follow the paper', () => {
    const c = parseConfig({});
    assert.equal(c.generation.candidatesPerPrompt, 8); // 4.1: 8 videos per prompt
    assert.equal(c.generation.pairing, 'top1-bottom1'); // 4.1: best vs worst
    assert.equal(c.critic.pceThreshold, 0.5); // eq. 4
    assert.equal(c.gates.critic.threshold, 0.75); // appendix C
    assert.equal(c.generator.betaDpo, 5000); // Diffusion-DPO
    assert.equal(c.generator.betaKto, 1000); // Diffusion-KTO
    assert.equal(c.critic.loss, 'srpo');
    assert.equal(c.gates.eval.approval.mode, 'auto');
  });

  test('the campaign id derives from the content, not from key order', () => {
    const a = parseConfig({ campaign: { name: 'x', seed: 1 }, generation: { promptsPerRound: 4 } });
    const b = parseConfig({ generation: { promptsPerRound: 4 }, campaign: { seed: 1, name: 'x' } });
    assert.equal(a.campaign.id, b.campaign.id);
    assert.equal(configDigest(a), configDigest(b));
    assert.notEqual(parseConfig({ campaign: { name: 'x', seed: 2 } }).campaign.id, a.campaign.id);
  });

  test('an id derived from campaign.name is always a safe store folder, or the name is refused', () => {
    // "../../etc" used to give "..-..-etc-<hash>", which the store refused only at run time, after retries.
    const id = parseConfig({ campaign: { name: '../../etc' } }).campaign.id!;
    assert.match(id, /^etc-[0-9a-f]{8}$/);
    assert.doesNotThrow(() => outputPrefix(id, 0, 'sample'));
    assert.match(parseConfig({ campaign: { name: 'my run 1' } }).campaign.id!, /^my-run-1-[0-9a-f]{8}$/, 'ordinary names keep their ids');
    for (const name of ['../..', '---', '.', '/ /']) {
      assert.throws(
        () => parseConfig({ campaign: { name } }, 'my.yaml'),
        (err: Error) => err instanceof ConfigError && /my\.yaml: campaign\.name: .*no usable campaign id/.test(err.message),
        name,
      );
    }
    assert.equal(parseConfig({ campaign: { name: '../..', id: 'explicit-1' } }).campaign.id, 'explicit-1', 'an explicit id makes any name fine');
  });

  test('the example config is valid', () => {
    const c = loadConfig(join(ROOT, 'config/examples/command-example.yaml'));
    assert.equal(c.stages.sample.backend, 'command');
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a wrong type', { generation: { candidatesPerPrompt: 'eight' } }, /generation\.candidatesPerPrompt: .*number/],
    ['a threshold out of range', { gates: { critic: { threshold: 1.5 } } }, /gates\.critic\.threshold/],
    ['a misspelt key', { campaign: { maxRouns: 3 } }, /campaign: .*maxRouns/],
    ['an unknown backend', { stages: { sample: { backend: 'pytorch' } } }, /stages\.sample\.backend: .*"builtin"\|"command"/],
    ['a command backend without a command', { stages: { label: { backend: 'command' } } }, /stages\.label\.command: backend "command" needs a "command"/],
    ['a malformed duration', { stages: { evaluate: { heartbeatTimeout: 'two minutes' } } }, /stages\.evaluate\.heartbeatTimeout: a duration such as/],
  ];
  for (const [what, raw, expected] of invalid) {
    test(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseConfig(raw, 'my.yaml'), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^invalid campaign config\nmy\.yaml: /);
        assert.match(err.message, expected);
        return true;
      });
    });
  }

  test('names the file when it is missing or not YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-config-'));
    assert.throws(() => loadConfig(join(dir, 'nope.yaml')), /cannot read config file .*nope\.yaml/);
    await writeFile(join(dir, 'bad.yaml'), 'campaign: [unclosed\n');
    assert.throws(() => loadConfig(join(dir, 'bad.yaml')), /bad\.yaml: not valid YAML/);
    await writeFile(join(dir, 'bad.json'), '{"campaign": ');
    assert.throws(() => loadConfig(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
  });
});
