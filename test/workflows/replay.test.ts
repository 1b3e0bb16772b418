// Replays recorded histories (test/fixtures/histories) against today's workflow code: a change
// that would break running campaigns fails here. Version changes with patched() instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/worker';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'histories');

test('recorded workflow histories replay without non-determinism', async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, `expected recorded histories in ${DIR}, found ${files.length}`);
  // v4 recorded a sharded round: its fan-out children replay too.
  assert.ok(files.some((f) => /^v4@replay-sharded__round-0001__sample-shards\.json$/.test(f)), 'the v4 histories include a sharded stage');
  // v5: a critic rolled back after the eval gate, a drained command stage, the human test set refreshed by the labels update.
  for (const name of ['v5@replay-critic-rollback.json', 'v5@replay-drained.json', 'v5@replay-human-test__round-0001__human-test.json', 'v5@replay-human-test-timeout.json']) {
    assert.ok(files.includes(name), `the v5 histories include ${name}`);
  }
  const histories = await Promise.all(
    // `<tag>@<workflow id with / as __>.json`: one tag per released workflow version.
    files.map(async (f) => ({ workflowId: f.replace(/\.json$/, '').replace(/^v\d+@/, '').replaceAll('__', '/'), history: JSON.parse(await readFile(join(DIR, f), 'utf8')) })),
  );
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
