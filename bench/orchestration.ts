// Orchestration benchmark on the real dev server: what Temporal costs a campaign.
// - activity dispatch latency: ActivityTaskScheduled -> ActivityTaskStarted, from the histories;
// - orchestration overhead: the part of a round's wall time not spent inside activities;
// - history bytes per round at 10 and at 10,000 prompts (references only: these must be about equal).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { parseConfig } from '../config/load';
import type { CampaignConfig } from '../config/schema';
import { startOrAttach } from '../lib/campaign/client';
import { createWorkers, runWorkers } from '../workers/worker';
import { roundWorkflowId, refinementWorkflowId } from '../workflows/definitions';
import { ensureDevServer, stopDevServer } from '../lib/temporal/dev-server';
import { freePort } from '../lib/free-port';

const JOB = join(import.meta.dirname, '..', 'examples', 'jobs', 'stage-job.mjs');
const ORCH = 'bench-orch';
const CPU = 'bench-cpu';
const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

function campaignConfig(id: string, root: string, promptsPerRound: number, stepDelayMs: number): CampaignConfig {
  const stage = { backend: 'command', command: ['node', JOB], taskQueue: CPU, params: { steps: 4, stepDelayMs } };
  return parseConfig({
    campaign: { id, maxRounds: 2, criticRefinement: 'every-round' },
    generation: { promptsPerRound, candidatesPerPrompt: 8, evalPrompts: 8 },
    artifacts: { root },
    temporal: { taskQueue: ORCH },
    stages: Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, stage])),
  });
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface RoundFigures {
  historyBytes: number;
  events: number;
  wallMs: number;
  activityMs: number;
  dispatchMs: number[];
}

/** Round history plus its critic-refinement child: everything one round adds to Temporal. */
async function roundFigures(client: Client, campaignId: string, round: number): Promise<RoundFigures> {
  const figures: RoundFigures = { historyBytes: 0, events: 0, wallMs: 0, activityMs: 0, dispatchMs: [] };
  for (const [i, id] of [roundWorkflowId(campaignId, round), refinementWorkflowId(campaignId, round)].entries()) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    figures.historyBytes += temporal.api.history.v1.History.encode(history).finish().length;
    const events = history.events ?? [];
    figures.events += events.length;
    if (i === 0) figures.wallMs = ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime);
    const scheduled = new Map<number, number>();
    const started = new Map<number, number>();
    for (const e of events) {
      const t = ms(e.eventTime);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set(Number(e.eventId), t);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const s = Number(e.activityTaskStartedEventAttributes?.scheduledEventId);
        started.set(s, t);
        figures.dispatchMs.push(t - scheduled.get(s)!);
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && i === 0) {
        const s = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
        figures.activityMs += t - (started.get(s) ?? t);
      }
    }
    // The refinement child runs inside the round: its activities count as work, not overhead.
    if (i === 1) {
      for (const e of events) {
        if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
          const s = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
          figures.activityMs += ms(e.eventTime) - (started.get(s) ?? ms(e.eventTime));
        }
      }
    }
  }
  return figures;
}


const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

export async function benchOrchestration(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? (() => {});
  const work = await mkdtemp(join(tmpdir(), 'dual-ipo-bench-'));
  // A throwaway dev server (own data folder and ports), quiet: its log goes to a file.
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = await ensureDevServer({ dataDir: work, port, uiPort });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const env = { client };
  const workers = await createWorkers({
    connection: nativeConnection,
    namespace: 'default',
    orchestrationQueue: ORCH,
    queues: [{ name: ORCH, concurrency: 1 }, { name: CPU, concurrency: 2 }],
    jobsDir: join(work, 'jobs'),
  });
  const running = runWorkers(workers);
  try {
    const results: Record<string, RoundFigures[]> = {};
    for (const prompts of [10, opts.quick ? 1000 : 10_000]) {
      const id = `bench-${prompts}`;
      log(`campaign ${id}: 2 rounds, ${prompts} prompts x 8 candidates per round, command backend`);
      const config = campaignConfig(id, join(work, 'artifacts'), prompts, 50);
      const { handle } = await startOrAttach(env.client, config);
      await handle.result();
      results[prompts] = [await roundFigures(env.client, id, 1), await roundFigures(env.client, id, 2)];
    }
    const [small, large] = Object.values(results) as [RoundFigures[], RoundFigures[]];
    const all = [...small, ...large];
    const dispatch = all.flatMap((r) => r.dispatchMs);
    const overhead = all.map((r) => (r.wallMs - r.activityMs) / r.wallMs);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const largePrompts = Number(Object.keys(results)[1]);
    return {
      dispatchLatencyP50Ms: quantile(dispatch, 0.5),
      dispatchLatencyP95Ms: quantile(dispatch, 0.95),
      dispatchSamples: dispatch.length,
      roundWallSeconds: mean(all.map((r) => r.wallMs)) / 1000,
      orchestrationSecondsPerRound: mean(all.map((r) => r.wallMs - r.activityMs)) / 1000,
      orchestrationOverheadShare: mean(overhead),
      historyBytesPerRound10Prompts: mean(small.map((r) => r.historyBytes)),
      [`historyBytesPerRound${largePrompts}Prompts`]: mean(large.map((r) => r.historyBytes)),
      historyBytesRatio: mean(large.map((r) => r.historyBytes)) / mean(small.map((r) => r.historyBytes)),
      historyEventsPerRound: mean(all.map((r) => r.events)),
    };
  } finally {
    for (const w of workers) w.shutdown();
    await running.catch(() => undefined);
    await nativeConnection.close();
    await connection.close();
    await stopDevServer({ dataDir: work });
    await rm(work, { recursive: true, force: true });
  }
}
