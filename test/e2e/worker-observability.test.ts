// A worker's telemetry on the real dev server: `dual-ipo worker --metrics` serves the Temporal
// runtime's metrics and the stage counters on one Prometheus endpoint (scraped here), and tracing
// links a campaign's workflow span to its stage activity's span (in-memory exporter, no network).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { startOrAttach } from '../../lib/campaign/client';
import { freePort } from '../../lib/free-port';
import { createWorkers } from '../../workers/worker';
import { createTracing } from '../../workers/tracing';
import { STAGE_METRICS } from '../../activities/metrics';
import type { CampaignResult } from '../../workflows/definitions';
import { createLocalEnv } from '../helpers/temporal';

const ROOT = join(import.meta.dirname, '..', '..');
let env: TestWorkflowEnvironment;
let work: string;
const children = new Set<ChildProcess>();

function campaignConfig(id: string, orchestration: string, stageQueue: string): CampaignConfig {
  const stage = { backend: 'command', command: ['node', join(ROOT, 'examples/jobs/stage-job.mjs')], taskQueue: stageQueue, params: { steps: 2 } };
  return parseConfig({
    campaign: { id, maxRounds: 1, criticRefinement: 'never' },
    generation: { promptsPerRound: 4, candidatesPerPrompt: 4, evalPrompts: 4 },
    artifacts: { root: join(work, 'artifacts') },
    temporal: { taskQueue: orchestration },
    stages: Object.fromEntries(['bootstrap', 'sample', 'label', 'pceFilter', 'criticTrain', 'validate', 'generatorTrain', 'evaluate'].map((s) => [s, stage])),
  });
}

/** The samples of one metric: `name{labels} value` lines, labels parsed. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dual-ipo-obs-'));
  env = await createLocalEnv();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
});

describe('worker telemetry', { timeout: 600_000 }, () => {
  test('dual-ipo worker --metrics: one endpoint with the runtime metrics and the stage counters and durations', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'bin/dual-ipo.mjs'), 'worker', '--queues', 'm-orch,m-cpu', '--orchestration-queue', 'm-orch', '--jobs-dir', join(work, 'jobs-m'), '--metrics', `127.0.0.1:${port}`], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', DUAL_IPO_METRICS_ADDRESS: '', DUAL_IPO_TRACING: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('exit', (code) => code && console.error(`worker exited ${code}\n${stderr.slice(-2000)}`));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const { handle } = await startOrAttach(env.client, campaignConfig('obs-metrics', 'm-orch', 'm-cpu'));
      assert.equal(((await handle.result()) as CampaignResult).rounds, 1);
      // Counted before each activity returns, so all of them are in by now.
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

      const finished = samples(text, STAGE_METRICS.finished).find((s) => s.labels.stage === 'bootstrap')!;
      assert.equal(finished.labels.backend, 'command');
      // The activity's meter adds the SDK's own tags (camelCase, unlike the runtime's snake_case labels).
      assert.equal(finished.labels.taskQueue, 'm-cpu');
      assert.ok(finished.value >= 1);
      for (const stage of ['bootstrap', 'sample', 'label', 'pceFilter', 'generatorTrain', 'evaluate']) {
        assert.ok(samples(text, STAGE_METRICS.started).some((s) => s.labels.stage === stage && s.value >= 1), `started ${stage}`);
      }
      const count = samples(text, `${STAGE_METRICS.seconds}_count`).find((s) => s.labels.stage === 'bootstrap' && s.labels.outcome === 'finished');
      assert.ok(count && count.value >= 1, 'the stage seconds histogram has the bootstrap attempt');
      // The stage buckets are in seconds (1 ... 86400), not the runtime's millisecond defaults.
      const les = samples(text, `${STAGE_METRICS.seconds}_bucket`).filter((s) => s.labels.stage === 'bootstrap' && s.labels.outcome === 'finished').map((s) => s.labels.le);
      assert.ok(les.includes('86400') && les.includes('1'), les.join(','));
      // The runtime's own metrics on the same endpoint.
      assert.ok(samples(text, 'temporal_activity_execution_latency_count').length + samples(text, 'temporal_workflow_task_execution_latency_count').length > 0, 'runtime metrics are served too');
    } finally {
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    }
  });

  test('tracing: the campaign workflow and its stage activity are spans of one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({ exporter })!;
    const connection = await NativeConnection.connect({ address: env.address });
    let workers: Worker[] = [];
    try {
      workers = await createWorkers({ connection, namespace: 'default', orchestrationQueue: 't-orch', queues: [{ name: 't-orch', concurrency: 1 }, { name: 't-cpu', concurrency: 1 }], jobsDir: join(work, 'jobs-t'), plugins: [tracing.plugin] });
      const running = Promise.all(workers.map((w) => w.run()));
      const { handle } = await startOrAttach(env.client, campaignConfig('obs-tracing', 't-orch', 't-cpu'));
      try {
        assert.equal(((await handle.result()) as CampaignResult).rounds, 1);
      } finally {
        for (const w of workers) w.shutdown();
        await running;
      }
      const spans = exporter.getFinishedSpans();
      const activity = spans.find((s) => s.name === 'RunActivity:bootstrap')!;
      const workflow = spans.find((s) => s.name === 'RunWorkflow:dualIpoCampaign')!;
      const scheduled = spans.find((s) => s.name === 'StartActivity:bootstrap')!;
      assert.equal(activity.spanContext().traceId, workflow.spanContext().traceId, spans.map((s) => `${s.name} ${s.spanContext().traceId}`).join('\n'));
      // The worker-side span is the child of the workflow's scheduling span (context from the task headers).
      assert.equal(activity.parentSpanId, scheduled.spanContext().spanId);
      assert.ok(spans.some((s) => s.name === 'RunWorkflow:dualIpoRound' && s.spanContext().traceId === workflow.spanContext().traceId), 'the round joins the trace');
      assert.equal(activity.resource.attributes['service.name'], 'dual-ipo-worker');
    } finally {
      await tracing.shutdown();
      await connection.close();
    }
  });
});
