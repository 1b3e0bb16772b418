// Gates and the stopping rule as pure decisions (paper section 3.3, appendices C and D). Workflow
// code imports this file, so it must stay free of I/O, randomness, clocks and imports.

/** Appendix C: accept an SRPO critic update only if its human agreement stays >= the threshold (0.75). */
export function criticGate(input: { agreement: number; threshold: number }): { accepted: boolean; reason: string } {
  const { agreement, threshold } = input;
  if (!Number.isFinite(agreement)) return { accepted: false, reason: `agreement is not a number (${agreement})` };
  const accepted = agreement >= threshold;
  return {
    accepted,
    reason: `human agreement ${(agreement * 100).toFixed(2)}% ${accepted ? '>=' : '<'} threshold ${(threshold * 100).toFixed(2)}%`,
  };
}

/**
 * Section 3.3: a drop of the evaluation Total beyond the tolerance below the champion is a regression.
 * Not in the paper: with `minStandardErrors` k > 0 and the gain's paired standard error, the gain
 * must also reach k standard errors (less the tolerance), so a candidate that beats the champion
 * only by the luck of the evaluation's samples is not accepted. Without a standard error the
 * tolerance rule alone decides, and the reason says so.
 */
export function evalGate(input: { total: number; championTotal?: number; tolerance: number; standardError?: number; minStandardErrors?: number }): {
  accepted: boolean;
  reason: string;
  delta: number;
} {
  const { total, championTotal, tolerance } = input;
  const k = input.minStandardErrors ?? 0;
  if (!Number.isFinite(total)) return { accepted: false, reason: `evaluation Total is not a number (${total})`, delta: Number.NaN };
  if (championTotal === undefined) return { accepted: true, reason: `no champion to compare with; Total ${total.toFixed(2)}`, delta: 0 };
  const delta = total - championTotal;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const se = input.standardError;
  const hasSe = se !== undefined && Number.isFinite(se) && se >= 0;
  const gain = hasSe ? `${signed(delta)} \u00b1 ${se.toFixed(2)} standard error` : signed(delta);
  const head = `Total ${total.toFixed(2)} vs champion ${championTotal.toFixed(2)} (${gain}, tolerance ${tolerance}`;
  if (k > 0 && hasSe) {
    const needed = k * se - tolerance;
    const accepted = delta >= needed;
    return { accepted, delta, reason: `${head}; ${accepted ? 'reaches' : 'below'} ${k} standard error(s): needs ${signed(needed)})` };
  }
  const accepted = total >= championTotal - tolerance;
  return { accepted, delta, reason: `${head}${k > 0 ? `; no paired standard error, so the tolerance rule alone` : ''})` };
}

export interface DivergenceRule {
  /** Any loss above this is abnormal. */
  maxLoss?: number;
  /** Abnormal when the mean of the last `window` losses exceeds factor x the mean of the first `window`. */
  divergenceFactor?: number;
  window?: number;
}

/** Section 3.3: "abnormal loss dynamics": NaN/Inf always, plus the configured divergence rule. */
export function abnormalLoss(losses: number[], rule: DivergenceRule = {}): { abnormal: boolean; reason?: string } {
  const nonFinite = losses.filter((l) => !Number.isFinite(l)).length;
  if (nonFinite > 0) return { abnormal: true, reason: `${nonFinite} non-finite loss value(s)` };
  if (losses.length === 0) return { abnormal: false };
  if (rule.maxLoss !== undefined) {
    const peak = Math.max(...losses);
    if (peak > rule.maxLoss) return { abnormal: true, reason: `loss ${peak.toFixed(4)} exceeds maxLoss ${rule.maxLoss}` };
  }
  if (rule.divergenceFactor !== undefined) {
    const window = Math.max(1, Math.min(rule.window ?? 10, Math.floor(losses.length / 2) || 1));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, window));
    const last = mean(losses.slice(-window));
    if (last > rule.divergenceFactor * first) {
      return { abnormal: true, reason: `loss diverged: last-${window} mean ${last.toFixed(4)} > ${rule.divergenceFactor} x first-${window} mean ${first.toFixed(4)}` };
    }
  }
  return { abnormal: false };
}

/**
 * Appendix D: stop once the evaluation saturates. `totals` holds the base model's Total followed by
 * each accepted round's; stop when each of the last `patience` improvements is below `epsilon`.
 */
export function saturationStop(totals: number[], rule: { epsilon: number; patience: number }): { stop: boolean; reason?: string } {
  if (totals.length < rule.patience + 1) return { stop: false };
  const recent = totals.slice(-(rule.patience + 1));
  const gains = recent.slice(1).map((t, i) => t - recent[i]!);
  if (gains.every((g) => g < rule.epsilon)) {
    return {
      stop: true,
      reason: `Total improved by ${gains.map((g) => g.toFixed(3)).join(', ')} over the last ${rule.patience} accepted round(s), each below epsilon ${rule.epsilon}`,
    };
  }
  return { stop: false };
}
