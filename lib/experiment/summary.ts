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
      ...(audited.length ? { auditFinal: meanStd(audited.map((a) => a.final)), auditGain: meanStd(audited.map((a) => a.final - a.base)) } : {}),
    };
  });
}

export const formatMeanStd = (x: { mean: number; std: number }, digits = 2) =>
  Number.isFinite(x.std) ? `${x.mean.toFixed(digits)} ± ${x.std.toFixed(digits)}` : x.mean.toFixed(digits);
