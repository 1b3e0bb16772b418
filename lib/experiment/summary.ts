// Pure summaries of experiment runs: mean and sample standard deviation per variant.
import type { AuditResult } from '../report/audit-record';

export interface RunResult {
  variant: string;
  seed: number;
  campaignId: string;
  baseTotal: number;
  finalTotal: number;
  /** Totals of the base model and each accepted round. */
  acceptedTotals: number[];
  rounds: number;
  stopReason: string;
  /** Base and final generator on held-out prompts no gate saw (builtin evaluate only; audit.ts). */
  audit?: AuditResult;
}

export interface VariantSummary {
  variant: string;
  runs: number;
  finalTotal: { mean: number; std: number };
  gain: { mean: number; std: number };
  /** Over the runs with an audit: the final generator's held-out Total and its gain over the base. */
  auditFinal?: { mean: number; std: number };
  auditGain?: { mean: number; std: number };
  /** Over the runs with an audit: the user study's net of the final generator against the base (0 when none was kept). */
  studyNet?: { mean: number; std: number };
}

/** Mean and sample standard deviation (n - 1); std is NaN for a single run, not a made-up 0. */
export function meanStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, std: Number.NaN };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

export function summariseVariants(results: RunResult[]): VariantSummary[] {
  const variants = [...new Set(results.map((r) => r.variant))];
  return variants.map((variant) => {
    const runs = results.filter((r) => r.variant === variant);
    const audited = runs.flatMap((r) => (r.audit ? [r.audit] : []));
    return {
      variant,
      runs: runs.length,
      finalTotal: meanStd(runs.map((r) => r.finalTotal)),
      gain: meanStd(runs.map((r) => r.finalTotal - r.baseTotal)),
      ...(audited.length ? { auditFinal: meanStd(audited.map((a) => a.final)), auditGain: meanStd(audited.map((a) => a.final - a.base)), studyNet: meanStd(audited.map((a) => a.study?.net ?? 0)) } : {}),
    };
  });
}

export const formatMeanStd = (x: { mean: number; std: number }, digits = 2) =>
  Number.isFinite(x.std) ? `${x.mean.toFixed(digits)} ± ${x.std.toFixed(digits)}` : x.mean.toFixed(digits);

/** Mean and standard error (std / sqrt(n)) of per-seed differences; se NaN with fewer than 2 seeds. */
export interface PairedDifference {
  a: string;
  b: string;
  seeds: number[];
  /** Held-out Total gain of a minus b, per seed (same seeds, same base model: a paired comparison). */
  total: number[];
  /** User-study net (wins - losses) / pairs against the base, a minus b, per seed. */
  study: number[];
  totalMean: { mean: number; se: number };
  studyMean: { mean: number; se: number };
}

export function meanSe(values: number[]): { mean: number; se: number } {
  const { mean, std } = meanStd(values);
  return { mean, se: values.length > 1 ? std / Math.sqrt(values.length) : Number.NaN };
}

/**
 * Variant a against variant b over the seeds both finished with an audit. A campaign that kept no
 * generator ends on its base: held-out gain 0 and study net 0 (the base against itself).
 */
export function pairedDifference(results: RunResult[], a: string, b: string): PairedDifference {
  const audited = (variant: string) => new Map(results.filter((r) => r.variant === variant && r.audit).map((r) => [r.seed, r.audit!]));
  const ra = audited(a);
  const rb = audited(b);
  const seeds = [...ra.keys()].filter((s) => rb.has(s)).sort((x, y) => x - y);
  const gain = (x: AuditResult) => x.final - x.base;
  const net = (x: AuditResult) => x.study?.net ?? 0;
  const total = seeds.map((s) => gain(ra.get(s)!) - gain(rb.get(s)!));
  const study = seeds.map((s) => net(ra.get(s)!) - net(rb.get(s)!));
  return { a, b, seeds, total, study, totalMean: meanSe(total), studyMean: meanSe(study) };
}

/** "+0.12 ± 0.05 (2.4 SE)", or the mean alone when there is no standard error. */
export function formatDifference(x: { mean: number; se: number }, digits = 2): string {
  const sign = x.mean >= 0 ? '+' : '';
  return Number.isFinite(x.se) ? `${sign}${x.mean.toFixed(digits)} ± ${x.se.toFixed(digits)} (${x.se > 0 ? (x.mean / x.se).toFixed(1) : '-'} SE)` : `${sign}${x.mean.toFixed(digits)}`;
}
