// Every command's help and the options it parses agree: a flag the help advertises is accepted, and
// an accepted flag is documented (issue 19: `worker --help` advertised --namespace, which was refused).
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../lib/cli/args';
import { COMMANDS } from '../../../lib/cli/main';

/** Flags of the Usage line and the Options section (lines that start with a flag); prose and examples elsewhere do not count. */
export function advertisedFlags(help: string): Set<string> {
  const lines = help.split('\n');
  const usage = lines.slice(0, lines.findIndex((l) => l.trim() === '')).join(' ');
  const flags = new Set([...usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
  const start = lines.findIndex((l) => /^Options:\s*$/.test(l));
  assert.ok(start >= 0, `no "Options:" section in:\n${help}`);
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const m = /^\s+(?:-[a-zA-Z], )?--([a-z][a-z0-9-]*)/.exec(line);
    if (m) flags.add(m[1]!);
  }
  return flags;
}

describe('help and options agree', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    test(`dual-ipo ${name}`, async () => {
      const { help, options } = await command.spec();
      assert.match(help, new RegExp(`^Usage: dual-ipo ${name}\\b`));
      const advertised = advertisedFlags(help);
      // --help is added to every command by args.ts parse().
      const accepted = new Set([...Object.keys(options), 'help']);
      assert.deepEqual([...advertised].filter((f) => !accepted.has(f)).sort(), [], `advertised but refused by ${name}`);
      assert.deepEqual([...accepted].filter((f) => !advertised.has(f)).sort(), [], `accepted but not in the Usage line or Options of ${name}`);
    });
  }

  test('each command itself accepts every flag its help advertises, and refuses others', async () => {
    const log = mock.method(console, 'log', () => undefined);
    try {
      for (const [name, command] of Object.entries(COMMANDS)) {
        const { help } = await command.spec();
        const run = await command.load();
        // With --help a command parses its arguments and prints the help; it never starts anything.
        for (const flag of advertisedFlags(help)) assert.equal(await run([`--${flag}`, 'x', '--help']), 0, `${name} --${flag}`);
        await assert.rejects(run(['--no-such-flag', '--help']), UsageError, `${name} is strict`);
      }
    } finally {
      log.mock.restore();
    }
  });
});

test('--version prints the code version the round manifests record', async () => {
  const { main } = await import('../../../lib/cli/main');
  const { codeVersion } = await import('../../../lib/artifacts/manifest');
  const out: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  try {
    assert.equal(await main(['--version']), 0);
  } finally {
    log.mock.restore();
  }
  assert.deepEqual(out, [`dual-ipo ${codeVersion()}`]);
  assert.match(out[0]!, /^dual-ipo \d+\.\d+\.\d+/);
});
