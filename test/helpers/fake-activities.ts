// Scripted activities for workflow tests: each stage returns references and the metrics a test
// scripts per round, and every call is recorded so the test can check what the workflow did.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import type { ArtifactRef } from '../../lib/artifacts/types';
import type { StageRequest, StageResult } from '../../lib/stages/contract';

export interface Script {
  /** Evaluation Total per round (index 0 = base model). */
  totals: number[];
  /** Pairwise agreement of the refined critic per round (default 0.8). */
  agreement?: (round: number) => number;
  /** Extra generatorTrain metrics per round, e.g. { nanCount: 1 }. */
  trainMetrics?: (round: number) => Record<string, number>;
  /** Paired standard error of each round's gain, returned when the workflow passes a baseline. */
  standardError?: (round: number) => number;
  /** Milliseconds each stage takes (real time; the time-skipping server skips only timers). */
  stageDelayMs?: number;
  /** Milliseconds each shard of a sharded stage takes. */
  shardDelayMs?: number;
  /** Shards whose first attempt fails (a crashed worker): the retry must redo only them. */
  failFirstAttempt?: (stage: string, shard: number) => boolean;
  /** A shard that runs until the promise returned for it settles: a state a test must see, held until it has. */
  holdShard?: (stage: string, shard: number) => Promise<void> | undefined;
  /**
   * How many times the n-th call (0-based, per round and stage) of an unsharded stage fails as a drained
   * worker's does (WorkerDrained; non-retryable when the request says drainRestarts).
   */
  drains?: (stage: string, round: number) => number;
  /** Human labels files the ingest refuses (by uri), with the validation message. */
  invalidLabels?: (uri: string) => string | undefined;
}

export interface Recorded {
  calls: Array<{ activity: string; round?: number; step?: string; input: unknown }>;
  /** Shard activity calls per `<round>/<stage>[-step]`: index per call, and the most in flight at once. */
  shards: Record<string, { calls: number[]; inFlight: number; maxInFlight: number; merges: number }>;
  manifests: Array<Record<string, any>>;
  rollbacks: Array<Record<string, any>>;
  promotions: Array<Record<string, any>>;
}

function ref(name: string): ArtifactRef {
  const sha256 = createHash('sha256').update(name).digest('hex');
  return { uri: `file:///fake/${name}`, sha256, size: name.length };
}

export function fakeActivities(script: Script): { activities: Activities; recorded: Recorded } {
  const recorded: Recorded = { calls: [], shards: {}, manifests: [], rollbacks: [], promotions: [] };
  const shardKey = (r: StageRequest) => `${r.round}/${r.stage}${r.step ? `-${r.step}` : ''}`;
  const shardLog = (r: StageRequest) => (recorded.shards[shardKey(r)] ??= { calls: [], inFlight: 0, maxInFlight: 0, merges: 0 });
  const attempts = new Map<string, number>();
  const stage = (outputs: (r: StageRequest) => Record<string, ArtifactRef>, metrics: (r: StageRequest) => Record<string, number>) =>
    async (request: StageRequest): Promise<StageResult> => {
      if (request.shard) {
        const log = shardLog(request);
        log.calls.push(request.shard.index);
        log.inFlight += 1;
        log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
        const key = `${shardKey(request)}#${request.shard.index}`;
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        try {
          await new Promise((r) => setTimeout(r, script.shardDelayMs ?? 0));
          await script.holdShard?.(request.stage, request.shard.index);
          if (attempt === 1 && script.failFirstAttempt?.(request.stage, request.shard.index)) throw new Error(`shard ${request.shard.index} lost its worker`);
        } finally {
          log.inFlight -= 1;
        }
        const name = `${shardKey(request)}/shard-${request.shard.index}`;
        return { stage: request.stage, outputKeyPrefix: name, outputs: { part: ref(name) }, metrics: {}, startedAt: new Date().toISOString(), seconds: 0.001, reused: false, attempt, worker: `fake-${request.shard.index % 3}` };
      }
      recorded.calls.push({ activity: request.stage, round: request.round, ...(request.step ? { step: request.step } : {}), input: request });
      const drainKey = `drain:${shardKey(request)}`;
      const drained = attempts.get(drainKey) ?? 0;
      if (drained < (script.drains?.(request.stage, request.round) ?? 0)) {
        attempts.set(drainKey, drained + 1);
        throw ApplicationFailure.create({ message: `${request.stage}: stopped by the worker's drain (exit 75)`, type: 'WorkerDrained', nonRetryable: request.drainRestarts === true });
      }
      if (script.stageDelayMs) await new Promise((r) => setTimeout(r, script.stageDelayMs));
      const prefix = `r${request.round}-${request.stage}${request.step ? `-${request.step}` : ''}`;
      return {
        stage: request.stage,
        ...(request.step ? { step: request.step } : {}),
        outputKeyPrefix: prefix,
        outputs: outputs(request),
        metrics: metrics(request),
        startedAt: new Date().toISOString(),
        seconds: 0.01,
        reused: false,
      };
    };
  const totalFor = (request: StageRequest) => {
    const total = script.totals[request.round];
    if (total === undefined) throw new Error(`script has no Total for round ${request.round}`);
    return total;
  };
  const activities = {
    bootstrap: stage(
      () => Object.fromEntries(['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'].map((n) => [n, ref(`boot-${n}`)])),
      () => ({}),
    ),
    sample: stage((r) => ({ samples: ref(`samples-${r.round}`) }), () => ({ videos: 16 })),
    label: stage((r) => ({ labels: ref(`labels-${r.round}-${r.step ?? ''}`) }), () => ({ pairs: 8 })),
    pceFilter: stage((r) => ({ preferences: ref(`prefs-${r.round}-${r.step ?? ''}`) }), () => ({ kept: 6, total: 8 })),
    criticTrain: stage((r) => ({ critic: ref(`critic-${r.round}`) }), () => ({ lossFinal: 0.4 })),
    validate: stage(() => ({ report: ref('validation') }), (r) => ({ agreementPairwise: script.agreement?.(r.round) ?? 0.8, agreementPointwise: 0.7 })),
    generatorTrain: stage(
      (r) => ({ generator: ref(`generator-${r.round}`), losses: ref(`losses-${r.round}`) }),
      (r) => ({ lossFirst: 0.7, lossFinal: 0.5, lossMax: 0.7, nanCount: 0, ...(script.trainMetrics?.(r.round) ?? {}) }),
    ),
    evaluate: stage(
      (r) => ({ scores: ref(`scores-${r.round}`) }),
      (r) => ({
        total: totalFor(r),
        quality: totalFor(r) + 1,
        semantic: totalFor(r) - 4,
        ...(r.inputs['baseline'] && script.standardError ? { gainStandardError: script.standardError(r.round) } : {}),
      }),
    ),
    async mergeShards(input: { request: StageRequest; ledger: { attempts: number[] } }) {
      shardLog(input.request).merges += 1;
      // The ledger the workflow hands over must account for every shard.
      if (input.ledger.attempts.some((a) => a < 1)) throw new Error(`merge of ${shardKey(input.request)} before every shard finished`);
      return (activities as unknown as Record<string, (r: StageRequest) => Promise<StageResult>>)[input.request.stage]!(input.request);
    },
    async promoteChampion(input: Record<string, any>) {
      recorded.calls.push({ activity: 'promoteChampion', round: input.round, input });
      recorded.promotions.push(input);
      return ref(`pointer-${input.kind}-${input.version}`);
    },
    async rollbackChampion(input: Record<string, any>) {
      recorded.calls.push({ activity: 'rollbackChampion', round: input.round, input });
      recorded.rollbacks.push(input);
    },
    async writeRoundManifest(input: { manifest: Record<string, any> }) {
      recorded.calls.push({ activity: 'writeRoundManifest', round: input.manifest.round, input });
      recorded.manifests.push(input.manifest);
      return ref(`manifest-${input.manifest.round}`);
    },
    async exportHumanTestPairs(input: Record<string, any>) {
      recorded.calls.push({ activity: 'exportHumanTestPairs', round: input.round, input });
      return { export: ref(`human-export-${input.round}`), pairs: input.pairs, folder: `file:///fake/round-${input.round}/human-test/export/` };
    },
    async simulatedHumanLabels(input: Record<string, any>) {
      recorded.calls.push({ activity: 'simulatedHumanLabels', input });
      return ref(`simulated-labels-${input.export.uri.split('-').pop()}`);
    },
    async ingestHumanTestLabels(input: Record<string, any>) {
      recorded.calls.push({ activity: 'ingestHumanTestLabels', input });
      const problem = script.invalidLabels?.(input.labels.uri);
      if (problem) throw ApplicationFailure.create({ message: problem, type: 'HumanLabelsInvalid', nonRetryable: true });
      return { humanTest: ref(`human-test-from-${input.labels.uri.split('/').pop()}`), fixedPairs: 5, refreshedPairs: 7, tieRate: 0.1 };
    },
    async writeCampaignRecord(input: Record<string, any>) {
      recorded.calls.push({ activity: 'writeCampaignRecord', input });
      return ref('campaign');
    },
  } as unknown as Activities;
  return { activities, recorded };
}
