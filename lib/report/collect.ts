// Everything a campaign report shows, read from the artifact store alone: the round manifests, the
// evaluation results of every round (round 0 is the base model), the campaign record, and the
// sample videos the evaluate stage published. No Temporal needed: an audit works after the fact.
import { auditKey, type CampaignAudit } from './audit-record';
import type { ArtifactStore } from '../artifacts/store';
import type { ArtifactRef } from '../artifacts/types';
import { readManifest, type RoundManifest } from '../artifacts/manifest';

export interface EvaluationResult {
  round: number;
  generator: string;
  total: number;
  quality: number;
  semantic: number;
  /** VBench dimension scores in [0,1], when the evaluator reports them (metrics `dim_<name>`). */
  dimensions: Record<string, number>;
  /** Sample videos by prompt id (GIF outputs of the evaluate stage). */
  videos: Record<string, ArtifactRef>;
  /** Prompt texts by prompt id, when the evaluate stage published an index. */
  prompts: Record<string, string>;
}

export interface CampaignRecord {
  stopReason?: string;
  configHash?: string;
  config?: Record<string, unknown>;
}

export interface ReportData {
  campaignId: string;
  generatedAt: string;
  manifests: RoundManifest[];
  evaluations: EvaluationResult[];
  record?: CampaignRecord;
  /** The held-out audit (lib/experiment/audit.ts), when one was run. */
  audit?: CampaignAudit;
  /** Free-form extra sections (e.g. an experiment's results table). */
  extra?: Array<{ title: string; html: string }>;
}

interface StageResultFile {
  outputs: Record<string, ArtifactRef>;
  metrics: Record<string, number>;
}

const pad = (round: number) => String(round).padStart(4, '0');

async function readJson<T>(store: ArtifactStore, key: string): Promise<T | undefined> {
  const ref = await store.head(key);
  return ref ? store.getJson<T>(ref) : undefined;
}

/** The evaluate result of a round, with its dimensions and sample videos (when published). */
async function evaluationOf(store: ArtifactStore, campaignId: string, round: number, generator: string): Promise<EvaluationResult | undefined> {
  const result = await readJson<StageResultFile>(store, `campaigns/${campaignId}/round-${pad(round)}/evaluate/result.json`);
  if (!result || typeof result.metrics?.total !== 'number') return undefined;
  const dimensions: Record<string, number> = {};
  for (const [name, value] of Object.entries(result.metrics)) if (name.startsWith('dim_')) dimensions[name.slice(4)] = value;
  const videos: Record<string, ArtifactRef> = {};
  let prompts: Record<string, string> = {};
  for (const [name, ref] of Object.entries(result.outputs)) {
    // `samples/<prompt id>.gif`, or `gif<i>` with the prompt in its summary (the builtin evaluate stage).
    const match = /(?:^|\/)([^/]+)\.gif$/.exec(name) ?? /^(gif\d+)$/.exec(name);
    if (!match) continue;
    videos[match[1]!] = ref;
    if (typeof ref.summary?.prompt === 'string') prompts[match[1]!] = ref.summary.prompt;
  }
  const index = result.outputs.videoIndex ?? result.outputs.prompts;
  if (index) {
    const parsed = await store.getJson<unknown>(index).catch(() => undefined);
    const items = Array.isArray(parsed) ? parsed : ((parsed as { items?: unknown[] } | undefined)?.items ?? []);
    prompts = {
      ...prompts,
      ...(Object.fromEntries(
      (items as Array<{ id?: string; promptId?: string; text?: string; prompt?: string }>)
        .map((p) => [p.id ?? p.promptId, p.text ?? p.prompt] as const)
        .filter((e): e is readonly [string, string] => typeof e[0] === 'string' && typeof e[1] === 'string'),
    ) as Record<string, string>),
    };
  }
  return { round, generator, total: result.metrics.total, quality: result.metrics.quality ?? Number.NaN, semantic: result.metrics.semantic ?? Number.NaN, dimensions, videos, prompts };
}

export async function collectReport(store: ArtifactStore, campaignId: string): Promise<ReportData> {
  const keys = (await store.list(`campaigns/${campaignId}/`)).filter((k) => /round-\d{4}\/manifest\.json$/.test(k)).sort();
  const manifests: RoundManifest[] = [];
  for (const key of keys) manifests.push(await readManifest(store, key));
  const base = await evaluationOf(store, campaignId, 0, 'g0');
  if (manifests.length === 0 && !base) {
    throw new Error(`no rounds and no base evaluation of campaign "${campaignId}" under ${store.root}/campaigns/${campaignId}/ (wrong id or store?)`);
  }
  const evaluations: EvaluationResult[] = base ? [base] : [];
  for (const m of manifests) {
    const e = await evaluationOf(store, campaignId, m.round, `g${m.round}`);
    if (e) evaluations.push(e);
  }
  const record = await readJson<CampaignRecord>(store, `campaigns/${campaignId}/campaign.json`);
  const audit = await readJson<CampaignAudit>(store, auditKey(campaignId));
  return { campaignId, generatedAt: new Date().toISOString(), manifests, evaluations, ...(record ? { record } : {}), ...(audit ? { audit } : {}) };
}
