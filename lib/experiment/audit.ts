// A held-out audit of a finished builtin campaign. The eval gate keeps a candidate only if it scores
// higher on the campaign's own evaluation prompts, so the champion's Total there is biased upward:
// a change that is pure noise is kept whenever the noise happens to be favourable. The audit scores
// the base generator and every accepted one on fresh prompts that no gate saw (one set shared by
// every campaign of the store, fixed noise per prompt), which is the figure to compare runs on.
// Written to campaigns/<id>/audit.json, which the report shows.
import { samplePrompts } from '../world';
import type { ArtifactRef, ArtifactStore } from '../artifacts';
import { manifestKey, readManifest } from '../artifacts/manifest';
import { promptRecord, type EvalPromptSet } from '../models/datasets';
import { runShardedLocally, runStageLocally } from '../stages/local';
import { studyAgainstBase, studyViews, userStudyPanel, USER_STUDY_EVIDENCE } from './user-study';
import { AUDIT_ERRORS, AUDIT_PROMPTS, AUDIT_VERSION, auditKey, type AuditedGenerator, type AuditResult, type CampaignAudit } from '../report/audit-record';

export { AUDIT_PROMPTS, auditKey, type AuditedGenerator, type AuditResult, type CampaignAudit };

export interface AuditOptions {
  prompts?: number;
  samplesPerPrompt?: number;
  /** Evaluate in shards of this many prompts (as the campaign's stages.evaluate.shardSize); same figures. */
  shardSize?: number;
  maxParallel?: number;
}

/** The audit prompt set (written once per size; later calls reuse it). */
export async function auditPrompts(store: ArtifactStore, opts: AuditOptions = {}): Promise<ArtifactRef> {
  const count = opts.prompts ?? AUDIT_PROMPTS;
  const samplesPerPrompt = opts.samplesPerPrompt ?? 2;
  const key = `audit/prompts-${count}x${samplesPerPrompt}.json`;
  const existing = await store.head(key);
  if (existing) return existing;
  // A seed no campaign uses for its own prompts (those are `<seed>/real`, `<seed>/eval`, `<seed>/round-<r>/prompts`).
  const set: EvalPromptSet = {
    format: 'dual-ipo/eval-prompts@1',
    prompts: samplePrompts({ count, seed: 'audit' }).map(promptRecord),
    samplesPerPrompt,
    seed: 'audit',
  };
  return store.putJson(key, set, { summary: { prompts: count } });
}

/** The base generator and each accepted one, from the round manifests. */
async function acceptedGenerators(store: ArtifactStore, campaignId: string): Promise<{ round: number; version: string; ref: ArtifactRef }[]> {
  const list: { round: number; version: string; ref: ArtifactRef }[] = [];
  for (let round = 1; ; round++) {
    const key = await store.head(manifestKey(campaignId, round));
    if (!key) break;
    const m = await readManifest(store, key);
    if (round === 1 && m.inputs['generator']) list.push({ round: 0, version: m.generator?.before ?? 'g0', ref: m.inputs['generator'] });
    const candidate = m.outputs['generatorCandidate'];
    if (m.generator?.accepted && candidate) list.push({ round, version: m.generator.after ?? `round ${round}`, ref: candidate });
  }
  return list;
}

/**
 * The base generator's audit, kept in memory for the next campaign of an experiment that starts from
 * the same base (its figures depend only on the generator and the prompts): a few entries, by
 * generator, prompt set and sharding.
 */
const baseAudits = new Map<string, { out: Awaited<ReturnType<typeof runStageLocally>>; views: Awaited<ReturnType<typeof studyViews>> }>();
const BASE_AUDITS_KEPT = 4;

/** Scores the campaign's base generator and every accepted one on the audit prompts; undefined before round 1 has a manifest. */
export async function auditCampaign(store: ArtifactStore, campaignId: string, opts: AuditOptions = {}): Promise<CampaignAudit | undefined> {
  const generators = await acceptedGenerators(store, campaignId);
  if (!generators.length) return undefined;
  const evalPrompts = await auditPrompts(store, opts);
  const set = await store.getJson<EvalPromptSet>(evalPrompts);
  // A rerun (e.g. of an experiment) reuses an audit of the same generators on the same prompts.
  const previousRef = await store.head(auditKey(campaignId));
  if (previousRef) {
    const previous = await store.getJson<CampaignAudit>(previousRef);
    const same =
      previous.errors === AUDIT_ERRORS &&
      previous.version === AUDIT_VERSION &&
      previous.prompts === set.prompts.length &&
      previous.generators.map((g) => g.sha256).join() === generators.map((g) => g.ref.sha256).join();
    if (same) return previous;
  }
  const audited: AuditedGenerator[] = [];
  let videos = 0;
  let baseScores: ArtifactRef | undefined;
  const panel = userStudyPanel();
  let baseViews: Awaited<ReturnType<typeof studyViews>> | undefined;
  for (const g of generators) {
    // Paired with the base generator's scores, the evaluate stage gives the gain its standard error.
    const req = { campaignId, round: g.round, step: 'audit', inputs: { generator: g.ref, evalPrompts, ...(baseScores ? { baseline: baseScores } : {}) } };
    const memoKey = baseScores ? undefined : `${store.root}|${g.ref.sha256}|${evalPrompts.sha256}|${opts.shardSize ?? 0}`;
    const memo = memoKey ? baseAudits.get(memoKey) : undefined;
    const out =
      memo?.out ??
      (opts.shardSize
        ? await runShardedLocally(store, 'evaluate', req, { prompts: set.prompts.length, shardSize: opts.shardSize, ...(opts.maxParallel ? { maxParallel: opts.maxParallel } : {}) })
        : await runStageLocally(store, 'evaluate', req));
    videos = out.metrics['videos']!;
    baseScores ??= out.outputs['scores'];
    const standardError = out.metrics['gainStandardError'];
    const views = memo?.views ?? (await studyViews(store, g.ref, set, panel));
    if (memoKey && !memo) {
      baseAudits.set(memoKey, { out, views });
      if (baseAudits.size > BASE_AUDITS_KEPT) baseAudits.delete(baseAudits.keys().next().value!);
    }
    const study = baseViews ? studyAgainstBase(panel, set, views, baseViews) : undefined;
    baseViews ??= views;
    audited.push({
      round: g.round,
      version: g.version,
      sha256: g.ref.sha256,
      total: out.metrics['total']!,
      quality: out.metrics['quality']!,
      semantic: out.metrics['semantic']!,
      ...(standardError !== undefined ? { gainStandardError: standardError } : {}),
      ...(study ? { study } : {}),
    });
  }
  const audit: CampaignAudit = { format: 'dual-ipo/audit@1', campaignId, prompts: set.prompts.length, videos, generators: audited, errors: AUDIT_ERRORS, version: AUDIT_VERSION, studyEvidence: USER_STUDY_EVIDENCE };
  await store.putJson(auditKey(campaignId), audit, { summary: { generators: audited.length } });
  return audit;
}

/** The experiment's view: base and final held-out Total. */
export function auditSummary(audit: CampaignAudit): AuditResult {
  const last = audit.generators.at(-1)!;
  const finalSe = last.gainStandardError; // the base has none
  return {
    base: audit.generators[0]!.total,
    final: last.total,
    prompts: audit.prompts,
    videos: audit.videos,
    ...(finalSe !== undefined ? { gainStandardError: finalSe } : {}),
    ...(last.study ? { study: last.study } : {}),
  };
}
