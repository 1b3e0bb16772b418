// Section 3.3: "abnormal loss dynamics" trigger the same path as an evaluation regression. The
// training stage reports a small loss summary (the full curve stays in its `losses` artifact).
import { abnormalLoss } from '../lib/core/gates';

export interface DivergenceRule {
  maxLoss?: number;
  factor?: number;
  window: number;
}

/** Metrics read: nanCount, nonFiniteMetrics, lossFirst/lossFinal/lossMax, lossFirstWindow/lossLastWindow. */
export function abnormalTraining(metrics: Record<string, number>, rule: DivergenceRule): { abnormal: boolean; reason?: string } {
  const nonFinite = (metrics.nanCount ?? 0) + (metrics.nonFiniteMetrics ?? 0);
  if (nonFinite > 0) return { abnormal: true, reason: `${nonFinite} non-finite loss value(s) (NaN/Inf)` };
  const first = metrics.lossFirstWindow ?? metrics.lossFirst;
  const last = metrics.lossLastWindow ?? metrics.lossFinal;
  const curve = [first, metrics.lossMax, last].filter((v): v is number => typeof v === 'number');
  if (curve.length === 0) return { abnormal: false };
  // The summary is a three-point curve (start, peak, end), so the divergence window is one point.
  return abnormalLoss(curve, { maxLoss: rule.maxLoss, divergenceFactor: rule.factor, window: 1 });
}
