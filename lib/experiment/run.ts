// Runs an experiment's campaigns (variants x seeds) on one set of in-process workers and collects
// their results. Each run is an ordinary durable campaign: interrupting and rerunning resumes them.
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { createWorkers } from '../../workers/worker';
import { connectClient, connectWorker, ensureTemporal } from '../temporal/connection';
import { startOrAttach, describeFailure } from '../cli/campaign-client';
import { spawnStageWorker } from '../cli/stage-worker-process';
import { checkBackends, configQueues } from '../cli/run-command';
import type { CampaignResult } from '../../workflows/definitions';
import type { Experiment, PlannedRun } from './config';
import type { RunResult } from './summary';
import { openStore } from '../artifacts';
import { auditCampaign, auditSummary } from './audit';

export async function runCampaignToResult(client: Client, run: PlannedRun): Promise<RunResult> {
  const { handle } = await startOrAttach(client, run.config);
  let result: CampaignResult;
  try {
    result = (await handle.result()) as CampaignResult;
  } catch (err) {
    throw new Error(`campaign ${run.config.campaign.id} (variant ${run.variant}, seed ${run.seed}) did not finish: ${describeFailure(err)}`);
  }
  return {
    variant: run.variant,
    seed: run.seed,
    campaignId: result.campaignId,
    baseTotal: result.acceptedTotals[0]!,
    finalTotal: result.champion.evaluation.total,
    acceptedTotals: result.acceptedTotals,
    rounds: result.rounds,
    stopReason: result.stopReason,
  };
}

export async function runExperiment(experiment: Experiment, runs: PlannedRun[], log: (line: string) => void): Promise<RunResult[]> {
  for (const run of runs) await checkBackends(run.config);
  const target = await ensureTemporal();
  const client = await connectClient(target);
  const orchestration = runs[0]!.config.temporal.taskQueue;
  const queues = [...new Set(runs.flatMap((r) => configQueues(r.config)))];
  const workers = await createWorkers({
    connection: await connectWorker(target),
    namespace: target.namespace,
    orchestrationQueue: orchestration,
    queues: [{ name: orchestration, concurrency: 1 }],
    identity: `dual-ipo-experiment@${hostname()}:${process.pid}`,
  });
  // Stage work in its own process, so training never stalls the workflows (see stage-worker-process.ts).
  const stageQueues = queues.filter((q) => q !== orchestration).map((q) => `${q}:${experiment.concurrency}`);
  const stageWorker = stageQueues.length > 0 ? spawnStageWorker(stageQueues, orchestration, 'experiment-stages', target) : undefined;
  const running = Promise.all(workers.map((w) => w.run()));
  const results: RunResult[] = [];
  try {
    let next = 0;
    const lane = async () => {
      while (next < runs.length) {
        const run = runs[next++]!;
        log(`start ${run.config.campaign.id} (variant ${run.variant}, seed ${run.seed})`);
        const result = await runCampaignToResult(client, run);
        log(`done  ${result.campaignId}: Total ${result.baseTotal.toFixed(2)} -> ${result.finalTotal.toFixed(2)} after ${result.rounds} round(s) (${result.stopReason})`);
        if (run.config.stages.evaluate.backend === 'builtin') {
          const audit = await auditCampaign(openStore(run.config.artifacts.root, run.config.artifacts.s3), result.campaignId, { prompts: experiment.auditPrompts });
          if (audit) {
            result.audit = auditSummary(audit);
            log(`audit ${result.campaignId}: held-out Total ${audit.generators.map((g) => `${g.version} ${g.total.toFixed(2)}`).join(' -> ')} (${audit.videos} videos of ${audit.prompts} prompts no gate saw)`);
          }
        }
        results.push(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(experiment.concurrency, runs.length) }, lane));
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all([running.catch(() => undefined), stageWorker?.stop()]);
  }
  const order = (r: RunResult) => runs.findIndex((p) => p.variant === r.variant && p.seed === r.seed);
  return results.sort((a, b) => order(a) - order(b));
}
