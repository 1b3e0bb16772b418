// The humanTest section: paper-sized defaults when present, absent by default (so older configs keep
// their digest and campaign id), and the errors name the field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configDigest, parseConfig } from '../../../config/load';

describe('config humanTest', () => {
  test('absent by default: the digest of a config without it is unchanged by the section\'s existence', () => {
    const c = parseConfig({});
    assert.equal(c.humanTest, undefined);
    assert.equal(configDigest(c), configDigest(parseConfig({})));
  });

  test('defaults: champion source, 250 new + half the bootstrap\'s pairs, simulated panel, 7 days then keep the previous set', () => {
    const c = parseConfig({ humanTest: {} });
    assert.deepEqual(c.humanTest, { source: 'champion', pairs: 250, fixedShare: 0.5, annotators: 'simulated', timeout: '7d', onTimeout: 'keep-previous', reminderEvery: '24h' });
  });

  test('errors name the field', () => {
    const refused = (raw: Record<string, unknown>, message: RegExp) => assert.throws(() => parseConfig(raw), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(raw));
    refused({ humanTest: { annotators: 'crowd' } }, /humanTest\.annotators/);
    refused({ humanTest: { fixedShare: 1.5 } }, /humanTest\.fixedShare/);
    refused({ humanTest: { timeout: 'soon' } }, /humanTest\.timeout/);
    refused({ humanTest: { pairz: 3 } }, /humanTest.*pairz/);
    refused({ humanTest: { source: 'champion' }, stages: { sample: { backend: 'command', command: ['x'] } } }, /humanTest\.source: .*builtin sample/);
  });
});
