// The command line as a user meets it: --help everywhere, and bad input refused before anything
// starts (no Temporal server, no data folder).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin/dual-ipo.mjs');

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const COMMANDS = ['run', 'status', 'history', 'pause', 'resume', 'stop', 'approve', 'server', 'worker'];

describe('dual-ipo CLI', () => {
  test('the main help lists every command', () => {
    const { code, out } = cli(['--help']);
    assert.equal(code, 0);
    for (const c of COMMANDS) assert.match(out, new RegExp(`^  ${c} `, 'm'));
  });

  for (const c of COMMANDS) {
    test(`${c} --help prints its usage`, () => {
      const { code, out } = cli([c, '--help']);
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`^Usage: dual-ipo ${c}`));
    });
  }

  test('an unknown command or flag is a usage error', () => {
    assert.equal(cli(['frobnicate']).code, 2);
    const r = cli(['status', '--colour']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--colour/);
  });

  test('an invalid config fails before anything starts, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dual-ipo-cli-'));
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'generation:\n  candidatesPerPrompt: -3\nstages:\n  sample: { backend: command }\n');
    const dataDir = join(dir, 'data');
    const r = cli(['run', '--config', config], { DUAL_IPO_DATA_DIR: dataDir, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.yaml: generation\.candidatesPerPrompt: /);
    assert.match(r.err, /bad\.yaml: stages\.sample\.command: backend "command" needs a "command"/);
    assert.ok(!existsSync(dataDir), 'nothing was created');
  });
});
