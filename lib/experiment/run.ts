// Runs an experiment's campaigns (variants x seeds) on one set of in-process workers and collects
// their results. Each run is an ordinary durable campaign: interrupting and rerunning resumes them.
import type { Client } from '@temporalio/client';
import { startOrAttach, describeFailure } from '../campaign/client';
import { openHost } from '../campaign/host';
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
  const host = await openHost({ configs: runs.map((r) => r.config), runWorkers: true, stageConcurrency: experiment.concurrency, name: 'experiment' });
  const { client } = host;
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
          const audit = await auditCampaign(openStore(run.config.artifacts.root, run.config.artifacts.s3), result.campaignId, { prompts: experiment.auditPrompts, ...auditSharding(run.config) });
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
    await host.stop();
  }
  const order = (r: RunResult) => runs.findIndex((p) => p.variant === r.variant && p.seed === r.seed);
  return results.sort((a, b) => order(a) - order(b));
}

/** The audit evaluates in shards as the campaign's evaluate stage does (the figures are the same). */
function auditSharding(config: { stages: { evaluate: { shardSize?: number; maxParallel?: number } } }): { shardSize?: number; maxParallel?: number } {
  const { shardSize, maxParallel } = config.stages.evaluate;
  return { ...(shardSize ? { shardSize } : {}), ...(maxParallel ? { maxParallel } : {}) };
}
