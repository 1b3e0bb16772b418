// validateKey (keys are relative POSIX paths that stay inside the root), the error classes, and
// stableStringify (the byte-stable JSON every JSON artifact and config hash is built on).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArtifactIntegrityError,
  ArtifactNotFoundError,
  InvalidArtifactKeyError,
  SIDECAR_SUFFIX,
  TEMP_MARKER,
  validateKey,
} from '../../../lib/artifacts/index';
import { sha256Hex, stableStringify } from '../../../lib/artifacts/stable-json';

describe('validateKey', () => {
  test('accepts relative POSIX paths and returns them unchanged', () => {
    for (const key of ['a', 'a/b/c.json', 'campaigns/c-1/round-0001/manifest.json', '..hidden', 'a/..b', 'a/b..', '.dot', 'x.sha256.json', 'sp ace/é', 'a.tmp']) {
      assert.equal(validateKey(key), key);
    }
  });

  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['/abs', /absolute/],
    ['/', /absolute/],
    ['../x', /escapes the root/],
    ['..', /escapes the root/],
    ['a/../../b', /escapes the root/],
    ['a/..', /escapes the root/],
    ['./a', /escapes the root/],
    ['a/./b', /escapes the root/],
    ['a//b', /empty path segment/],
    ['a/', /empty path segment/],
    ['a\\b', /backslash/],
    ['..\\..\\x', /backslash/],
    ['C:\\x', /backslash/],
    ['a\0b', /NUL/],
    [`x${SIDECAR_SUFFIX}`, /reserved/],
    [`a/b${SIDECAR_SUFFIX}`, /reserved/],
    [`a${TEMP_MARKER}1234`, /reserved/],
    [`a${TEMP_MARKER}/b`, /reserved/],
  ];
  for (const [key, why] of refused) {
    test(`refuses ${JSON.stringify(key)}`, () => {
      assert.throws(
        () => validateKey(key),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArtifactKeyError);
          assert.match(err.message, why);
          assert.ok(err.message.includes(`"${key}"`), err.message);
          return true;
        },
      );
    });
  }

  test('refuses non-strings at run time', () => {
    assert.throws(() => validateKey(undefined as unknown as string), InvalidArtifactKeyError);
    assert.throws(() => validateKey(42 as unknown as string), InvalidArtifactKeyError);
  });

  test('error classes: names, instanceof Error, and which failures are non-retryable', () => {
    const invalid = new InvalidArtifactKeyError('x');
    const missing = new ArtifactNotFoundError('x');
    const integrity = new ArtifactIntegrityError('x');
    for (const err of [invalid, missing, integrity]) assert.ok(err instanceof Error);
    assert.deepEqual([invalid.name, missing.name, integrity.name], ['InvalidArtifactKeyError', 'ArtifactNotFoundError', 'ArtifactIntegrityError']);
    assert.equal(invalid.nonRetryable, true);
    assert.equal(integrity.nonRetryable, true);
    assert.equal((missing as { nonRetryable?: boolean }).nonRetryable, undefined, 'a missing artifact may yet appear: retryable');
  });
});

describe('stableStringify', () => {
  test('sorts keys at every depth; array order is kept', () => {
    assert.equal(stableStringify({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(stableStringify({ b: 1, a: 2 }), stableStringify({ a: 2, b: 1 }));
  });

  test('is otherwise JSON.stringify: indent, undefined, NaN, scalars, toJSON', () => {
    assert.equal(stableStringify({ b: 1, a: 2 }, 2), '{\n  "a": 2,\n  "b": 1\n}');
    assert.equal(stableStringify({ a: undefined, b: [undefined, NaN, Infinity] }), '{"b":[null,null,null]}');
    assert.equal(stableStringify('x'), '"x"');
    assert.equal(stableStringify(null), 'null');
    assert.equal(stableStringify(0), '0');
    assert.equal(stableStringify([]), '[]');
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    assert.equal(stableStringify({ when }), JSON.stringify({ when }));
    assert.equal(stableStringify(Buffer.from('hi')), '{"data":[104,105],"type":"Buffer"}');
    assert.equal(stableStringify({ v: { toJSON: () => ({ z: 1, a: 2 }) } }), '{"v":{"a":2,"z":1}}');
  });

  test('sha256Hex of strings and bytes agree', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256Hex('abc'), sha256Hex(new TextEncoder().encode('abc')));
  });
});
