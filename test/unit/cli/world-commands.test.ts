import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../../lib/cli/args';
import { evaluateCommand, promptsCommand } from '../../../lib/cli/world-commands';

/** Runs a command with stdout and stderr captured. */
async function run(command: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = process.stdout.write.bind(process.stdout);
  const log = console.log;
  const error = console.error;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  try {
    return { code: await command(argv), out, err };
  } finally {
    process.stdout.write = write;
    console.log = log;
    console.error = error;
  }
}

let dir = '';
after(async () => dir && rm(dir, { recursive: true, force: true }));

test('dual-ipo prompts prints JSON lines and a distribution summary', async () => {
  const { code, out, err } = await run(promptsCommand, ['--count', '25', '--seed', '9']);
  assert.equal(code, 0);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 25);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['category', 'difficulty', 'id', 'spec', 'text']);
  assert.match(err, /category:[\s\S]*figure[\s\S]*difficulty:[\s\S]*simple/);
  const summary = await run(promptsCommand, ['--count', '200', '--seed', '9', '--summary-only', '--difficulty', 'simple=1,medium=0,difficult=0']);
  assert.match(summary.out, /simple +200 +100\.0%/);
  assert.equal((await run(promptsCommand, ['--help'])).code, 0);
  await assert.rejects(run(promptsCommand, ['--seed', '1']), UsageError);
  await assert.rejects(run(promptsCommand, ['--count', 'x', '--seed', '1']), /--count must be an integer/);
});

test('dual-ipo evaluate scores rendered videos against their prompts', async () => {
  dir = await mkdtemp(join(tmpdir(), 'world-cli-'));
  const rendered = await run(promptsCommand, ['--count', '12', '--seed', 'cli', '--render', dir, '--quiet']);
  assert.equal(rendered.code, 0);
  const json = await run(evaluateCommand, ['--videos', dir, '--prompts', join(dir, 'prompts.jsonl'), '--json']);
  assert.equal(json.code, 0);
  const result = JSON.parse(json.out);
  assert.equal(result.videos, 12);
  assert.ok(result.total > 85, `total ${result.total}`);
  const table = await run(evaluateCommand, ['--videos', dir, '--prompts', join(dir, 'prompts.jsonl')]);
  assert.match(table.out, /subject_consistency[\s\S]*overall_consistency[\s\S]*Total +\d+\.\d\d[\s\S]*Quality[\s\S]*Semantic/);
  await assert.rejects(run(evaluateCommand, ['--videos', dir]), /missing --prompts/);
});
