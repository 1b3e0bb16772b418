// The worker's operator settings without a server: stage metrics per outcome through an activity's
// metric meter, the metrics address and deployment version from flags and environment, the tracing
// switch. The endpoint itself, tracing and versioning against a server: test/e2e/worker-*.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter, MetricTags, NumericMetricValueType } from '@temporalio/common';
import { measureStage, STAGE_METRICS } from '../../../activities/metrics';
import type { StageRequest, StageResult } from '../../../lib/stages/contract';
import { metricsAddressFrom, parseMetricsAddress } from '../../../workers/telemetry';
import { deploymentOptions, deploymentVersionFrom } from '../../../workers/versioning';
import { createTracing, tracingMode } from '../../../workers/tracing';

interface Point { name: string; value: number; tags: MetricTags }

/** A meter that keeps what is recorded, with the tags of withTags() and of each call. */
function recordingMeter(points: Point[], base: MetricTags = {}): MetricMeter {
  const metric = (name: string, unit?: string, description?: string) => {
    const record = (value: number, tags: MetricTags = {}) => void points.push({ name, value, tags: { ...base, ...tags } });
    return { name, unit, description, valueType: 'float' as NumericMetricValueType, kind: 'counter', add: record, record, set: record, withTags: () => { throw new Error('unused'); } };
  };
  return {
    createCounter: (name, unit, description) => metric(name, unit, description) as unknown as MetricCounter,
    createHistogram: (name, _type, unit, description) => metric(name, unit, description) as unknown as MetricHistogram,
    createGauge: (name, _type, unit, description) => metric(name, unit, description) as unknown as MetricGauge,
    withTags: (tags) => recordingMeter(points, { ...base, ...tags }),
  };
}

const request = { campaignId: 'c', round: 1, stage: 'sample', backend: 'command', inputs: {}, store: { root: '/tmp/x' }, params: {} } as StageRequest;
const result = (reused: boolean): StageResult => ({ stage: 'sample', outputKeyPrefix: 'p/', outputs: {}, metrics: {}, startedAt: '', seconds: 0, reused });

describe('stage metrics', () => {
  for (const [outcome, run] of [
    ['finished', async () => result(false)],
    ['reused', async () => result(true)],
    ['failed', async () => { throw new Error('job exited 1'); }],
  ] as const) {
    test(`an attempt that ends ${outcome}: started, ${outcome} and its seconds, tagged by stage and backend`, async () => {
      const points: Point[] = [];
      const env = new MockActivityEnvironment(undefined, { metricMeter: recordingMeter(points) });
      const attempt: Promise<StageResult> = env.run(() => measureStage(request, run));
      if (outcome === 'failed') await assert.rejects(attempt, /job exited 1/);
      else assert.equal((await attempt).reused, outcome === 'reused');
      const counters = points.filter((p) => p.name !== STAGE_METRICS.seconds);
      assert.deepEqual(counters.map((p) => [p.name, p.value]), [[STAGE_METRICS.started, 1], [STAGE_METRICS[outcome], 1]]);
      for (const p of points) assert.deepEqual({ stage: p.tags.stage, backend: p.tags.backend }, { stage: 'sample', backend: 'command' });
      const seconds = points.filter((p) => p.name === STAGE_METRICS.seconds);
      assert.equal(seconds.length, 1);
      assert.equal(seconds[0]!.tags.outcome, outcome);
      assert.ok(seconds[0]!.value >= 0);
    });
  }

  test('outside an activity the stage runs and nothing is recorded', async () => {
    assert.equal((await measureStage(request, async () => result(false))).reused, false);
  });
});

describe('metrics address', () => {
  test('flag over environment, blank is off, host:port checked', () => {
    assert.equal(metricsAddressFrom(undefined, {}), undefined);
    assert.equal(metricsAddressFrom(undefined, { DUAL_IPO_METRICS_ADDRESS: ' ' }), undefined);
    assert.equal(metricsAddressFrom(undefined, { DUAL_IPO_METRICS_ADDRESS: '0.0.0.0:9464' }), '0.0.0.0:9464');
    assert.equal(metricsAddressFrom('127.0.0.1:9500', { DUAL_IPO_METRICS_ADDRESS: '0.0.0.0:9464' }), '127.0.0.1:9500');
    assert.equal(parseMetricsAddress('[::1]:9464'), '[::1]:9464');
    for (const bad of ['9464', 'localhost', 'host:0', 'host:70000', 'http://host:9464']) assert.throws(() => parseMetricsAddress(bad), /host:port/, bad);
  });
});

describe('worker deployment version', () => {
  const code = () => '0.1.0+abc1234';
  test('off without a deployment name; build id from DUAL_IPO_BUILD_ID, else the code version', () => {
    assert.equal(deploymentVersionFrom(undefined, code, {}), undefined);
    assert.deepEqual(deploymentOptions(undefined), {});
    assert.deepEqual(deploymentVersionFrom(undefined, code, { DUAL_IPO_WORKER_DEPLOYMENT: 'dual-ipo' }), { deploymentName: 'dual-ipo', buildId: '0.1.0+abc1234' });
    assert.deepEqual(deploymentVersionFrom('prod', code, { DUAL_IPO_WORKER_DEPLOYMENT: 'dual-ipo', DUAL_IPO_BUILD_ID: 'b7' }), { deploymentName: 'prod', buildId: 'b7' });
    assert.throws(() => deploymentVersionFrom('dual.ipo', code, {}), /no '\.'/);
    assert.deepEqual(deploymentOptions({ deploymentName: 'd', buildId: 'b' }), {
      workerDeploymentOptions: { useWorkerVersioning: true, version: { deploymentName: 'd', buildId: 'b' }, defaultVersioningBehavior: 'PINNED' },
    });
  });
});

describe('tracing switch', () => {
  test('on by OTLP endpoint or DUAL_IPO_TRACING, off otherwise', () => {
    assert.equal(tracingMode({}), 'off');
    assert.equal(createTracing({}, {}), undefined);
    assert.equal(tracingMode({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'otlp');
    assert.equal(tracingMode({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), 'otlp');
    assert.equal(tracingMode({ DUAL_IPO_TRACING: '1' }), 'otlp');
    assert.equal(tracingMode({ DUAL_IPO_TRACING: 'console' }), 'console');
    assert.equal(tracingMode({ DUAL_IPO_TRACING: '0', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'off');
    assert.throws(() => tracingMode({ DUAL_IPO_TRACING: 'yes please' }), /expected 1, 0 or console/);
  });
});
