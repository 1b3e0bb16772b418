// Number formats shared by the campaign report and the experiment table.

/** A figure with two decimals, or "–" when there is none. */
export const num = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** A change, with its sign: +0.39, -0.31. */
export const signed = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);
