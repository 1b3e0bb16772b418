// Safe upgrades with Temporal worker versioning, on one dev server: two `dual-ipo worker` processes
// of the same deployment with different code versions (build ids). A command-backend campaign
// started while v1 is current is pinned to v1: after v2 becomes current, every remaining stage,
// round workflow and workflow task of it still runs on v1, while a campaign started then runs on v2.
// Which worker ran a stage is recorded by the job itself (its worker's variables, passed on by the
// stage's env allowlist).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { startOrAttach } from '../../lib/campaign/client';
import type { CampaignResult } from '../../workflows/definitions';
import { createLocalEnv } from '../helpers/temporal';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOYMENT = 'dual-ipo-upgrade-test';
let env: TestWorkflowEnvironment;
let work: string;
const children = new Set<ChildProcess>();

// Records (campaign, stage, round, worker code version), then waits for its campaign's gate file
// before doing the example job's work, so a test can hold a campaign mid-way.
const GATE_JOB = `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
const [requestPath] = process.argv.slice(2);
const request = JSON.parse(readFileSync(requestPath ?? process.env.DUAL_IPO_REQUEST, 'utf8'));
const dir = process.env.GATE_DIR;
appendFileSync(join(dir, 'runs.jsonl'), JSON.stringify({ campaign: request.campaignId, stage: request.stage, round: request.round, version: process.env.DUAL_IPO_CODE_VERSION }) + '\\n');
while (!existsSync(join(dir, 'open-' + request.campaignId))) await new Promise((r) => setTimeout(r, 200));
const r = spawnSync(process.execPath, [process.env.STAGE_JOB, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
`;

function campaignConfig(id: string): CampaignConfig {
  const stage = { backend: 'command', command: ['node', join(work, 'gate-job.mjs')], taskQueue: 'v-cpu', params: { steps: 2 }, env: { allow: ['GATE_DIR', 'STAGE_JOB', 'DUAL_IPO_CODE_VERSION'] } };
  return parseConfig({
    campaign: { id, maxRounds: 1, criticRefinement: 'never' },
    generation: { promptsPerRound: 4, candidatesPerPrompt: 4, evalPrompts: 4 },
    artifacts: { root: join(work, 'artifacts') },
    temporal: { taskQueue: 'v-orch' },
    stages: Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, stage])),
  });
}

function startWorker(codeVersion: string): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'worker', '--queues', 'v-orch,v-cpu:2', '--orchestration-queue', 'v-orch', '--deployment', DEPLOYMENT, '--jobs-dir', join(work, `jobs-${codeVersion}`)], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', DUAL_IPO_CODE_VERSION: codeVersion, DUAL_IPO_BUILD_ID: '', GATE_DIR: work, STAGE_JOB: join(ROOT, 'examples/jobs/stage-job.mjs') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.on('exit', (code) => {
    children.delete(child);
    if (code) console.error(`worker ${codeVersion} exited ${code}\n${stderr.slice(-2000)}`);
  });
  children.add(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err) => void (last = err));
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** What an operator does with `temporal worker deployment set-current-version`; refused until the version polls every queue. */
async function makeCurrent(buildId: string): Promise<void> {
  await waitFor(`${buildId} to become current`, async () => {
    await env.client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: 'default', deploymentName: DEPLOYMENT, buildId, identity: 'upgrade-test' });
    const { workerDeploymentInfo } = await env.client.workflowService.describeWorkerDeployment({ namespace: 'default', deploymentName: DEPLOYMENT });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId === buildId ? true : undefined;
  });
}

async function runs(): Promise<Array<{ campaign: string; stage: string; round: number; version: string }>> {
  const text = await readFile(join(work, 'runs.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function pinnedTo(workflowId: string): Promise<{ buildId?: string; behavior?: unknown }> {
  const info = (await env.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId ?? undefined, behavior: info?.behavior };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-versions-'));
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'gate-job.mjs'), GATE_JOB);
  env = await createLocalEnv();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
});

describe('worker versioning', { timeout: 900_000 }, () => {
  test('a campaign started on v1 finishes on v1 after v2 becomes current; a new campaign runs on v2', async () => {
    startWorker('v1');
    await makeCurrent('v1');

    const old = await startOrAttach(env.client, campaignConfig('upgrade-old'));
    await waitFor('the old campaign inside its bootstrap on v1', async () => ((await runs()).some((r) => r.campaign === 'upgrade-old') ? true : undefined));

    startWorker('v2');
    await makeCurrent('v2');

    await writeFile(join(work, 'open-upgrade-new'), '');
    const fresh = await startOrAttach(env.client, campaignConfig('upgrade-new'));
    assert.equal(((await fresh.handle.result()) as CampaignResult).rounds, 1);

    await writeFile(join(work, 'open-upgrade-old'), '');
    assert.equal(((await old.handle.result()) as CampaignResult).rounds, 1);

    const all = await runs();
    const oldRuns = all.filter((r) => r.campaign === 'upgrade-old');
    const newRuns = all.filter((r) => r.campaign === 'upgrade-new');
    // Both ran the whole round (bootstrap through evaluate), each on one version only.
    for (const stage of ['bootstrap', 'sample', 'evaluate']) {
      assert.ok(oldRuns.some((r) => r.stage === stage), `old campaign ran ${stage}`);
      assert.ok(newRuns.some((r) => r.stage === stage), `new campaign ran ${stage}`);
    }
    assert.deepEqual([...new Set(oldRuns.map((r) => r.version))], ['v1'], JSON.stringify(oldRuns));
    assert.deepEqual([...new Set(newRuns.map((r) => r.version))], ['v2'], JSON.stringify(newRuns));

    // The server's record agrees, for the campaign and its round (a child workflow).
    const PINNED = 1; // temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
    assert.deepEqual(await pinnedTo('upgrade-old'), { buildId: 'v1', behavior: PINNED });
    assert.deepEqual(await pinnedTo('upgrade-old/round-0001'), { buildId: 'v1', behavior: PINNED });
    assert.deepEqual(await pinnedTo('upgrade-new'), { buildId: 'v2', behavior: PINNED });
  });
});
