// The commands an operator runs against a cluster, on a dev server in a temp data folder reached
// through --address (as a cluster would be): list, status (exit status by state, Web UI link,
// --watch), history from the store past retention, doctor's cluster checks, and worker's refusal to
// start without a cluster. Campaign workflows are started by type name with no worker serving them.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureDevServer, stopDevServer } from '../../../lib/temporal/dev-server';
import { ensureSearchAttributes } from '../../../lib/temporal/search-attributes';
import { CampaignIdKey, ChampionCriticKey, ChampionGeneratorKey, RoundKey } from '../../../workflows/search-attributes';
import { openStore } from '../../../lib/artifacts';
import { writeManifest, type RoundManifest } from '../../../lib/artifacts/manifest';
import { UsageError } from '../../../lib/cli/args';
import { listCommand } from '../../../lib/cli/list-command';
import { exitCodeFor, historyCommand, statusCommand, watchStatus } from '../../../lib/cli/campaign-commands';
import { doctorCommand } from '../../../lib/cli/doctor-command';
import { workerCommand } from '../../../lib/cli/worker-command';
import type { FullStatus } from '../../../lib/campaign/client';

const ENV_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_UI_URL', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME'];
const savedEnv = Object.fromEntries(ENV_VARS.map((name) => [name, process.env[name]]));
const root = mkdtempSync(join(tmpdir(), 'dual-ipo-operator-'));
const dataDir = join(root, 'data');
let address: string;
let connection: Connection;
let client: Client;
const prefix = `op-${process.pid}-`;

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  const warn = mock.method(console, 'warn', (...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    warn.mock.restore();
  }
}

async function startCampaign(id: string, attrs: { round?: number; generator?: string; critic?: string } = {}) {
  await client.workflow.start('dualIpoCampaign', {
    workflowId: id,
    taskQueue: 'nobody-serves-this',
    memo: { name: `name-of-${id}` },
    typedSearchAttributes: [
      { key: CampaignIdKey, value: id },
      ...(attrs.round !== undefined ? [{ key: RoundKey, value: attrs.round }] : []),
      ...(attrs.generator ? [{ key: ChampionGeneratorKey, value: attrs.generator }] : []),
      ...(attrs.critic ? [{ key: ChampionCriticKey, value: attrs.critic }] : []),
    ],
  });
}

before(async () => {
  for (const name of ENV_VARS) delete process.env[name];
  const server = await ensureDevServer({ dataDir, port: 'free' });
  address = server.address;
  connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, 'default');
  client = new Client({ connection });
  await startCampaign(`${prefix}alpha`, { round: 3, generator: 'g2', critic: 'c1' });
  await startCampaign(`${prefix}beta`);
  await client.workflow.getHandle(`${prefix}beta`).terminate('test');
});

after(async () => {
  await connection?.close();
  await stopDevServer({ dataDir }).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
  for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name];
  else process.env[name] = value;
});

describe('operator commands on a cluster', () => {
  test('list shows campaigns with state, round and champions, filtered by state and name', async () => {
    type Row = { campaignId: string; state: string; round?: number; championGenerator?: string; championCritic?: string; name?: string };
    const rows = async (...args: string[]) => {
      const r = await capture(() => listCommand(['--address', address, '--json', '--name', prefix, ...args]));
      assert.equal(r.code, 0, r.err);
      return r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
    };
    // Visibility is eventually consistent: wait until both are listed.
    let all: Row[] = [];
    for (let i = 0; i < 50 && all.length < 2; i++) {
      all = await rows();
      if (all.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    const alpha = all.find((r) => r.campaignId === `${prefix}alpha`);
    assert.deepEqual({ ...alpha, startTime: undefined }, { campaignId: `${prefix}alpha`, name: `name-of-${prefix}alpha`, state: 'RUNNING', round: 3, championGenerator: 'g2', championCritic: 'c1', startTime: undefined });
    assert.deepEqual((await rows('--state', 'terminated')).map((r) => r.campaignId), [`${prefix}beta`]);
    assert.deepEqual((await rows('--state', 'running')).map((r) => r.campaignId), [`${prefix}alpha`]);
    const text = await capture(() => listCommand(['--address', address, '--name', 'alpha']));
    assert.match(text.out, /^CAMPAIGN +STATE +ROUND +STAGE +CHAMPION +STARTED\n/);
    assert.match(text.out, new RegExp(`${prefix}alpha +RUNNING +3 +- +g2/c1 `));
    await assert.rejects(listCommand(['--state', 'sleeping']), UsageError);
  });

  test('status exits with the campaign state and links the Web UI', async () => {
    process.env.TEMPORAL_UI_URL = 'http://ui.example:8080/';
    try {
      const r = await capture(() => statusCommand([`${prefix}beta`, '--address', address]));
      assert.equal(r.code, 5, r.out + r.err);
      assert.match(r.out, new RegExp(`^campaign ${prefix}beta: TERMINATED\\nWeb UI: http://ui\\.example:8080/namespaces/default/workflows/${prefix}beta\\n`));
      // --watch on a campaign that has ended prints once and exits the same way.
      assert.equal((await capture(() => statusCommand([`${prefix}beta`, '--address', address, '--watch', '--interval', '0.1']))).code, 5);
    } finally {
      delete process.env.TEMPORAL_UI_URL;
    }
    assert.deepEqual(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].map(exitCodeFor), [0, 0, 3, 4, 5, 6]);
  });

  test('history reads a campaign past retention from its store, and says how when no store is given', async () => {
    const id = `${prefix}expired`;
    const store = openStore(join(root, 'artifacts'));
    const manifest = {
      schema: 'dual-ipo/round-manifest@1', campaignId: id, round: 1, status: 'accepted', reason: 'eval gate', configHash: 'f'.repeat(64), codeVersion: '0.1.0+abc',
      inputs: {}, outputs: {}, generator: { before: 'g0', after: 'g1', accepted: true }, critic: { before: 'c0', after: 'c0', refined: false },
      gates: [], rollbacks: [], stages: [], evaluation: { total: 58.5, quality: 66, semantic: 28 }, championEvaluation: { total: 58.2, quality: 65, semantic: 29 },
      startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:02:00Z',
    } as unknown as RoundManifest;
    await writeManifest(store, manifest);
    await store.putJson(`campaigns/${id}/campaign.json`, { campaignId: id, stopReason: 'maxRounds', state: { lastRound: 1, champion: { generator: { version: 'g1' }, critic: { version: 'c0' }, evaluation: { total: 58.5 } } } });
    await assert.rejects(historyCommand([id, '--address', address]), /not on the server .*--store ROOT or --config FILE/);
    const r = await capture(() => historyCommand([id, '--address', address, '--store', join(root, 'artifacts')]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /NOT ON THE SERVER .*finished \(maxRounds\) after round 1, champion generator g1 critic c0 Total 58\.50/);
    assert.match(r.out, /round 1: ACCEPTED {2}generator g0 -> g1 .*Total 58\.50\n {2}.* code 0\.1\.0\+abc/);
  });

  test('doctor checks the cluster quietly and exits 0 when it is healthy, 1 when not', async () => {
    const ok = await capture(() => doctorCommand(['--address', address, '--store', join(root, 'doctor-store'), '--json']));
    const report = JSON.parse(ok.out) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    assert.deepEqual(report.checks.map((c) => c.name), ['tfjs', 'onnxruntime', 'temporal connection', 'temporal server', 'temporal namespace', 'search attributes', 'artifact store']);
    assert.equal(ok.code, 0, JSON.stringify(report.checks));
    assert.match(report.checks.find((c) => c.name === 'temporal server')!.detail, /^Temporal server \d+\.\d+/);
    assert.equal(ok.err, '', 'nothing but the report');
    const bad = await capture(() => doctorCommand(['--address', address, '--namespace', 'no-such-namespace', '--store', join(root, 'doctor-store'), '--json']));
    assert.equal(bad.code, 1);
    const badReport = JSON.parse(bad.out) as { checks: { name: string; ok: boolean }[] };
    assert.equal(badReport.checks.find((c) => c.name === 'temporal namespace')!.ok, false);
  });

  test('worker refuses to start without a cluster unless --dev, and refuses both', async () => {
    await assert.rejects(workerCommand(['--queues', 'cpu']), (err: Error) => err instanceof UsageError && /set TEMPORAL_ADDRESS or --address HOST:PORT, or pass --dev/.test(err.message));
    await assert.rejects(workerCommand(['--dev', '--address', address]), (err: Error) => err instanceof UsageError && /--dev serves the local dev server/.test(err.message));
  });
});

describe('status --watch', () => {
  test('refreshes through an outage until the campaign ends, then exits with its state', async () => {
    const states: Array<FullStatus | Error> = [
      { campaignId: 'c', workflowStatus: 'RUNNING', activities: [] },
      Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
      Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
      { campaignId: 'c', workflowStatus: 'RUNNING', activities: [] },
      { campaignId: 'c', workflowStatus: 'FAILED', activities: [], failure: 'stage sample failed' },
    ];
    let i = 0;
    const printed: string[] = [];
    const read = async () => {
      const next = states[i++]!;
      if (next instanceof Error) throw next;
      return next;
    };
    const code = await watchStatus(read, (s) => `${s.workflowStatus}${s.failure ? ` ${s.failure}` : ''}`, 1, (t) => printed.push(t));
    assert.equal(code, 3);
    assert.equal(i, states.length);
    const text = printed.join('\n');
    assert.equal(text.match(/\nRUNNING$/gm)?.length, 1, 'an unchanged status is not printed again');
    assert.match(text, /Temporal unreachable since .* retrying/);
    assert.match(text, /reachable again/);
    assert.match(text, /\nFAILED stage sample failed$/);
  });
});
