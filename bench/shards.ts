// History size of sharded rounds on the real dev server: one round whose sample stage runs 10, 1,000
// and 10,000 shards (scripted activities that return at once, so only orchestration is measured).
// Reported per shard count: the round workflow's own history (it must stay flat), the fan-out
// child's histories over all its runs (continue-as-new), and the campaign's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { parseConfig } from '../config/load';
import { dualIpoCampaign } from '../workflows/campaign';
import { roundWorkflowId, shardWorkflowId } from '../workflows/definitions';
import { WORKFLOWS_PATH } from '../workers/worker';
import { ensureDevServer, stopDevServer } from '../lib/temporal/dev-server';
import { ensureSearchAttributes } from '../lib/temporal/search-attributes';
import { freePort } from '../lib/free-port';
import { fakeActivities } from '../test/helpers/fake-activities';

const QUEUE = 'bench-shards';
const { History } = proto.temporal.api.history.v1;

export interface Size {
  events: number;
  bytes: number;
  runs: number;
}

/** Every run of a workflow id (following continue-as-new back to the first), summed. */
export async function historySize(client: Client, workflowId: string): Promise<Size> {
  const size: Size = { events: 0, bytes: 0, runs: 0 };
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    size.events += history.events?.length ?? 0;
    size.bytes += History.encode(history).finish().length;
    size.runs += 1;
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return size;
    runId = previous;
  }
}

export async function benchShardHistory(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? (() => {});
  const work = await mkdtemp(join(tmpdir(), 'dual-ipo-bench-shards-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = await ensureDevServer({ dataDir: work, port, uiPort });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  await ensureSearchAttributes(connection, server.namespace);
  const figures: Record<string, number> = {};
  try {
    for (const shards of opts.quick ? [10, 1000] : [10, 1000, 10_000]) {
      const id = `bench-shards-${shards}`;
      const stages = Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, { backend: 'command', command: ['true'], taskQueue: QUEUE }]));
      stages.sample = { ...stages.sample!, shardSize: 1, maxParallel: 64 } as (typeof stages)['sample'];
      const config = parseConfig({ campaign: { id, maxRounds: 1, criticRefinement: 'never' }, generation: { promptsPerRound: shards }, stages, temporal: { taskQueue: QUEUE } });
      const { activities } = fakeActivities({ totals: [70, 72] });
      const worker = await Worker.create({ connection: nativeConnection, namespace: server.namespace, taskQueue: QUEUE, workflowsPath: WORKFLOWS_PATH, activities, maxConcurrentActivityTaskExecutions: 128 });
      const started = performance.now();
      await worker.runUntil(async () => {
        const handle = await client.workflow.start(dualIpoCampaign, { workflowId: id, taskQueue: QUEUE, args: [{ config, configHash: 'bench', store: { root: 'file:///fake' } }] });
        await handle.result();
      });
      const seconds = (performance.now() - started) / 1000;
      const round = await historySize(client, roundWorkflowId(id, 1));
      const fanOut = await historySize(client, shardWorkflowId(id, 1, 'sample'));
      const campaign = await historySize(client, id);
      log(`${String(shards).padStart(6)} shards: round ${round.events} events / ${round.bytes} B; fan-out child ${fanOut.events} events / ${fanOut.bytes} B in ${fanOut.runs} run(s); campaign ${campaign.events} events; ${seconds.toFixed(1)} s (${((seconds * 1000) / shards).toFixed(2)} ms per shard)`);
      Object.assign(figures, {
        [`roundEvents${shards}Shards`]: round.events,
        [`roundBytes${shards}Shards`]: round.bytes,
        [`fanOutEvents${shards}Shards`]: fanOut.events,
        [`fanOutBytes${shards}Shards`]: fanOut.bytes,
        [`fanOutRuns${shards}Shards`]: fanOut.runs,
        [`campaignEvents${shards}Shards`]: campaign.events,
        [`msPerShard${shards}Shards`]: (seconds * 1000) / shards,
      });
    }
  } finally {
    await nativeConnection.close();
    await connection.close();
    await stopDevServer({ dataDir: work });
    await rm(work, { recursive: true, force: true });
  }
  return figures;
}
