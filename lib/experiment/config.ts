// An experiment: one base campaign config, named variants (config overrides: the paper's ablations)
// and seeds. Every variant x seed is its own durable campaign; rerunning the experiment resumes.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, loadConfig, parseConfig, resolveStoreRoot } from '../../config/load';
import type { CampaignConfig } from '../../config/schema';
import { AUDIT_PROMPTS } from '../report/audit-record';

const experimentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/, 'letters, digits, ".", "_" or "-"'),
    /** The campaign config every variant starts from (relative to the experiment file). */
    base: z.string().min(1),
    seeds: z.array(z.number().int()).min(1).default([1, 2, 3]),
    /** Campaigns running at once (each has its own workers' share of the machine). */
    concurrency: z.number().int().min(1).default(1),
    /** Held-out prompts each finished builtin campaign is audited on (2 videos each; audit.ts). */
    auditPrompts: z.number().int().min(2).default(AUDIT_PROMPTS),
    /** Overrides of the base config shared by every variant (applied before the variant's own). */
    common: z.record(z.string(), z.unknown()).default({}),
    /** Paired comparisons to report: [a, b] gives a minus b per seed, mean ± standard error (summary.ts). */
    compare: z.array(z.tuple([z.string(), z.string()])).default([]),
    variants: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/, 'letters, digits, ".", "_" or "-"'), z.record(z.string(), z.unknown())).refine((v) => Object.keys(v).length > 0, 'at least one variant'),
  })
  .strict();

export type Experiment = z.output<typeof experimentSchema>;

export interface PlannedRun {
  variant: string;
  seed: number;
  config: CampaignConfig;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Overrides replace leaves and merge objects; arrays are leaves. */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

export interface ExperimentSelection {
  /** Only these variants (names checked against the file). */
  variants?: string[];
  /** Only these seeds (they need not be in the file's list: a run can add seeds). */
  seeds?: number[];
}

export function loadExperiment(path: string, only: ExperimentSelection = {}): { experiment: Experiment; runs: PlannedRun[] } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
  const parsed = experimentSchema.safeParse((raw as { experiment?: unknown })?.experiment ?? raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid experiment\n${parsed.error.issues.map((i) => `${path}: experiment.${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const experiment = parsed.data;
  const unknown = experiment.compare.flat().filter((v) => !(v in experiment.variants));
  if (unknown.length) throw new ConfigError(`invalid experiment\n${path}: experiment.compare: no variant named ${[...new Set(unknown)].map((v) => JSON.stringify(v)).join(', ')} (variants: ${Object.keys(experiment.variants).join(', ')})`);
  const basePath = resolve(dirname(resolve(path)), experiment.base);
  const baseConfig = loadConfig(basePath);
  const baseRaw = parseYaml(readFileSync(basePath, 'utf8')) as Record<string, unknown>;
  const missing = (only.variants ?? []).filter((v) => !(v in experiment.variants));
  if (missing.length) throw new ConfigError(`${path}: no variant named ${missing.map((v) => JSON.stringify(v)).join(', ')} (variants: ${Object.keys(experiment.variants).join(', ')})`);
  const runs: PlannedRun[] = [];
  for (const [variant, override] of Object.entries(experiment.variants)) {
    if (only.variants && !only.variants.includes(variant)) continue;
    for (const seed of only.seeds ?? experiment.seeds) {
      const overrides = deepMerge(experiment.common, override);
      // The store is the base config's unless the experiment names another (relative to the experiment file).
      const root = isObject(overrides['artifacts']) && typeof overrides['artifacts']['root'] === 'string' ? resolveStoreRoot(overrides['artifacts']['root'], dirname(resolve(path))) : baseConfig.artifacts.root;
      const merged = deepMerge(deepMerge(baseRaw, overrides), {
        campaign: { id: `${experiment.name}-${variant}-s${seed}`, name: `${experiment.name}-${variant}`, seed },
        artifacts: { root },
      });
      runs.push({ variant, seed, config: parseConfig(merged, `${path} (variant ${variant})`, dirname(basePath)) });
    }
  }
  return { experiment, runs };
}
