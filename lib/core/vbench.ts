// VBench's Total / Quality / Semantic scores (paper section 4, Tables 2-5) exactly as VBench computes
// them: Vchitect/VBench scripts/constant.py (NORMALIZE_DIC, DIM_WEIGHT, QUALITY_LIST, SEMANTIC_LIST)
// and scripts/cal_final_score.py. Keys are VBench's snake_case dimension names.

export const VBENCH_QUALITY_DIMENSIONS = [
  'subject_consistency',
  'background_consistency',
  'temporal_flickering',
  'motion_smoothness',
  'aesthetic_quality',
  'imaging_quality',
  'dynamic_degree',
] as const;

export const VBENCH_SEMANTIC_DIMENSIONS = [
  'object_class',
  'multiple_objects',
  'human_action',
  'color',
  'spatial_relationship',
  'scene',
  'appearance_style',
  'temporal_style',
  'overall_consistency',
] as const;

export type VBenchDimension = (typeof VBENCH_QUALITY_DIMENSIONS)[number] | (typeof VBENCH_SEMANTIC_DIMENSIONS)[number];
export const VBENCH_DIMENSIONS: readonly VBenchDimension[] = [...VBENCH_QUALITY_DIMENSIONS, ...VBENCH_SEMANTIC_DIMENSIONS];

/** NORMALIZE_DIC: the empirical min/max of each raw score; anything not listed is [0, 1]. */
export const VBENCH_NORMALIZE: Readonly<Record<VBenchDimension, { min: number; max: number }>> = Object.freeze({
  subject_consistency: { min: 0.1462, max: 1.0 },
  background_consistency: { min: 0.2615, max: 1.0 },
  temporal_flickering: { min: 0.6293, max: 1.0 },
  motion_smoothness: { min: 0.706, max: 0.9975 },
  dynamic_degree: { min: 0, max: 1 },
  aesthetic_quality: { min: 0, max: 1 },
  imaging_quality: { min: 0, max: 1 },
  object_class: { min: 0, max: 1 },
  multiple_objects: { min: 0, max: 1 },
  human_action: { min: 0, max: 1 },
  color: { min: 0, max: 1 },
  spatial_relationship: { min: 0, max: 1 },
  scene: { min: 0, max: 0.8222 },
  appearance_style: { min: 0.0009, max: 0.2855 },
  temporal_style: { min: 0, max: 0.364 },
  overall_consistency: { min: 0, max: 0.364 },
});

/** DIM_WEIGHT: dynamic degree counts half, every other dimension 1. */
export const VBENCH_DIM_WEIGHT: Readonly<Record<VBenchDimension, number>> = Object.freeze(
  Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, d === 'dynamic_degree' ? 0.5 : 1])) as Record<VBenchDimension, number>,
);

export type VBenchDimensionScores = Readonly<Record<VBenchDimension, number>>;

export interface VBenchScores {
  /** (4 Quality + Semantic) / 5, on 0-100. */
  total: number;
  /** Sum of weighted normalised quality dimensions / 6.5, on 0-100. */
  quality: number;
  /** Sum of normalised semantic dimensions / 9, on 0-100. */
  semantic: number;
}

// n_d = W_d (s_d - Min_d) / (Max_d - Min_d); Quality = sum_Q n_d / sum_Q W_d; Semantic = sum_S n_d / 9; Total = (4 Quality + Semantic) / 5; all x100
export function vbenchScores(dims: VBenchDimensionScores): VBenchScores {
  for (const key of Object.keys(dims)) {
    // A misspelt key would otherwise leave its dimension "missing" with a less helpful message.
    if (!(VBENCH_DIMENSIONS as readonly string[]).includes(key)) throw new Error(`vbenchScores: unknown dimension "${key}" (expected VBench's snake_case names, e.g. subject_consistency)`);
  }
  for (const d of VBENCH_DIMENSIONS) {
    const s = dims[d];
    if (s === undefined) throw new Error(`vbenchScores: missing dimension ${d}`);
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1) throw new Error(`vbenchScores: ${d} must be a raw score in [0, 1], got ${s}`);
  }
  // No clipping: like cal_final_score.py, a score below Min gives a negative normalised value.
  const n = (d: VBenchDimension) => ((dims[d] - VBENCH_NORMALIZE[d].min) / (VBENCH_NORMALIZE[d].max - VBENCH_NORMALIZE[d].min)) * VBENCH_DIM_WEIGHT[d];
  const weighted = (list: readonly VBenchDimension[]) => list.reduce((a, d) => a + n(d), 0) / list.reduce((a, d) => a + VBENCH_DIM_WEIGHT[d], 0);
  const quality = weighted(VBENCH_QUALITY_DIMENSIONS);
  const semantic = weighted(VBENCH_SEMANTIC_DIMENSIONS);
  const total = (4 * quality + 1 * semantic) / (4 + 1);
  return { total: 100 * total, quality: 100 * quality, semantic: 100 * semantic };
}
