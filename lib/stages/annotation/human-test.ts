// Refreshing the held-out human test set from the champion generator's candidates (appendix C: "a
// fixed human-labeled preference test set constructed from the current T2V model"): export pairs of
// this round's candidates for annotation, let the world's simulated panel answer them (the reference
// world), and ingest a labels file into a new test set = a fixed part of the bootstrap's set (the
// same pairs every round, so agreement stays comparable) + the freshly labelled pairs.
// Every output sits at a deterministic key and the manifest written last is the commit point, so a
// retried activity reuses finished work.
import { createHash } from 'node:crypto';
import type { ArtifactRef, ArtifactStore } from '../../artifacts';
import { encodeGif, HUMAN_DIMENSIONS, makePanel, panelPairwise, perceive, type HumanDimension, type HumanEvidence, type Video } from '../../world';
import { getManifest, getVideos, putVideos, type HumanPairRecord, type HumanSet, type PreferenceSet, type PromptRecord } from '../../models/datasets';
import { loadSamples } from '../builtin/samples';
import { labelsJsonl, labelStudioImport, pairId, pairsCsv, pairsJsonl, parseLabels, type ExportedPair, type LabelRow } from './labels';

export interface ExportedPairRecord extends ExportedPair {
  promptRecord: PromptRecord;
  /** Candidate ids in the round's sample set. */
  candidateA: string;
  candidateB: string;
}

export interface HumanTestExport {
  format: 'dual-ipo/human-test-export@1';
  campaignId: string;
  round: number;
  /** The champion generator whose candidates these are. */
  generator: { version: string; sha256: string };
  samples: string;
  /** Store URI of the export folder (the paths of `pairs` are relative to it). */
  folder: string;
  pairs: ExportedPairRecord[];
  /** The pairs' videos, ids `<pair id>/a` and `<pair id>/b`. */
  videos: ArtifactRef;
  files: { labelStudio: ArtifactRef; labelConfig: ArtifactRef; jsonl: ArtifactRef; csv: ArtifactRef };
}

export const humanTestFolder = (campaignId: string, round: number) => `campaigns/${campaignId}/round-${String(round).padStart(4, '0')}/human-test/`;

/** The export folder's URI (a store names files only), ending in /. */
export const exportFolderUri = (store: ArtifactStore, campaignId: string, round: number) => store.uriFor(`${humanTestFolder(campaignId, round)}export/export.json`).replace(/export\.json$/, '');

const order = (...parts: (string | number)[]) => createHash('sha256').update(parts.join('/')).digest('hex');

/**
 * Which candidates to pair: prompts in a seeded order, one pair per prompt (two candidates in a
 * seeded order) and then further disjoint pairs per prompt until `count`. Candidates in `exclude`
 * (the round's preference pairs, i.e. the critic's pseudo-labels) are never shown: no test video is
 * one the critic trains on.
 */
export function choosePairs(candidates: readonly { id: string; prompt: number }[], count: number, seed: string, exclude: ReadonlySet<string> = new Set()): [number, number][] {
  const byPrompt = new Map<number, number[]>();
  candidates.forEach((c, i) => {
    if (!exclude.has(c.id)) byPrompt.set(c.prompt, [...(byPrompt.get(c.prompt) ?? []), i]);
  });
  const prompts = [...byPrompt.keys()].sort((x, y) => (order(seed, 'prompt', x) < order(seed, 'prompt', y) ? -1 : 1));
  const queues = new Map(prompts.map((p) => [p, [...byPrompt.get(p)!].sort((x, y) => (order(seed, 'candidate', candidates[x]!.id) < order(seed, 'candidate', candidates[y]!.id) ? -1 : 1))]));
  const pairs: [number, number][] = [];
  for (let progress = true; pairs.length < count && progress; ) {
    progress = false;
    for (const p of prompts) {
      const q = queues.get(p)!;
      if (q.length < 2 || pairs.length >= count) continue;
      const [a, b] = q.splice(0, 2) as [number, number];
      pairs.push(a < b ? [a, b] : [b, a]);
      progress = true;
    }
  }
  return pairs;
}

export interface ExportArgs {
  campaignId: string;
  round: number;
  samples: ArtifactRef;
  /** The round's preference set: its pairs' candidates are left out. */
  preferences?: ArtifactRef;
  generator: { version: string; ref: ArtifactRef };
  pairs: number;
  seed: string;
  /** Prefix of the videos' URLs in the Label Studio tasks (default: the export folder's store URI). */
  videoBaseUrl?: string;
}

export async function exportHumanTest(store: ArtifactStore, args: ExportArgs): Promise<{ export: ArtifactRef; pairs: number }> {
  const folder = `${humanTestFolder(args.campaignId, args.round)}export/`;
  const done = await store.head(`${folder}export.json`);
  if (done) return { export: done, pairs: (await store.getJson<HumanTestExport>(done)).pairs.length };
  const samples = await loadSamples({ store }, args.samples);
  const exclude = new Set<string>();
  if (args.preferences) {
    const prefs = await store.getJson<Partial<PreferenceSet>>(args.preferences);
    for (const p of prefs.pairs ?? []) exclude.add(p.chosen).add(p.rejected);
  }
  const chosen = choosePairs(samples.set.candidates, args.pairs, `${args.seed}/round-${args.round}/human-test`, exclude);
  if (!chosen.length) throw new Error(`human test export: round ${args.round}'s samples (${args.samples.uri}) have no two candidates of one prompt outside the preference pairs`);
  const pairs: ExportedPairRecord[] = [];
  const videos: Video[] = [];
  const ids: string[] = [];
  for (const [a, b] of chosen) {
    const ca = samples.set.candidates[a]!;
    const cb = samples.set.candidates[b]!;
    const prompt = samples.set.prompts[ca.prompt]!;
    const id = pairId(args.round, prompt.id, ca.candidate, cb.candidate);
    const paths = { videoA: `videos/${id}-a.gif`, videoB: `videos/${id}-b.gif` };
    for (const [side, index, path] of [['a', a, paths.videoA], ['b', b, paths.videoB]] as const) {
      const video = samples.videos[index]!;
      await store.put(`${folder}${path}`, encodeGif(video));
      videos.push(video);
      ids.push(`${id}/${side}`);
    }
    pairs.push({ id, prompt: prompt.text, ...paths, promptRecord: prompt, candidateA: ca.id, candidateB: cb.id });
  }
  const folderUri = exportFolderUri(store, args.campaignId, args.round);
  const base = args.videoBaseUrl?.replace(/\/+$/, '') ?? folderUri.replace(/\/+$/, '');
  const studio = labelStudioImport(pairs, (path) => `${base}/${path}`);
  const manifest: HumanTestExport = {
    format: 'dual-ipo/human-test-export@1',
    campaignId: args.campaignId,
    round: args.round,
    generator: { version: args.generator.version, sha256: args.generator.ref.sha256 },
    samples: args.samples.uri,
    folder: folderUri,
    pairs,
    videos: await putVideos(store, `${folder}videos.dipv`, videos, ids),
    files: {
      labelStudio: await store.put(`${folder}label-studio-tasks.json`, JSON.stringify(studio.tasks, null, 2)),
      labelConfig: await store.put(`${folder}label-studio-config.xml`, studio.labelConfig),
      jsonl: await store.put(`${folder}pairs.jsonl`, pairsJsonl(pairs)),
      csv: await store.put(`${folder}pairs.csv`, pairsCsv(pairs)),
    },
  };
  return { export: await store.putJson(`${folder}export.json`, manifest, { summary: { pairs: pairs.length, generator: args.generator.version } }), pairs: pairs.length };
}

/**
 * The reference world's panel answers the export (the same ten annotators as the bootstrap's human
 * sets), and its answers are written as an ordinary labels file: the ingest step cannot tell them
 * from a person's.
 */
export async function simulateHumanLabels(store: ArtifactStore, args: { export: ArtifactRef; seed: string; evidence?: HumanEvidence }): Promise<{ labels: ArtifactRef }> {
  const exp = await getManifest<HumanTestExport>(store, args.export, 'dual-ipo/human-test-export@1', 'export');
  const key = `${humanTestFolder(exp.campaignId, exp.round)}labels/simulated-panel.jsonl`;
  const done = await store.head(key);
  if (done) return { labels: done };
  const { videos, ids } = await getVideos(store, exp.videos);
  const byId = new Map(ids.map((id, i) => [id, videos[i]!]));
  const panel = makePanel({ seed: `${args.seed}/panel`, ...(args.evidence ? { evidence: args.evidence } : {}) });
  const rows: LabelRow[] = exp.pairs.map((p) => {
    const view = (side: 'a' | 'b') => {
      const video = byId.get(`${p.id}/${side}`)!;
      return { video, perception: perceive(video), key: side === 'a' ? p.candidateA : p.candidateB };
    };
    return { pair: p.id, labels: panelPairwise(panel, p.promptRecord.spec, view('a'), view('b')).labels, annotator: 'simulated-panel' };
  });
  return { labels: await store.put(key, labelsJsonl(rows)) };
}

/** Reads a labels file from the store and checks it against the export (LabelsError: nothing ingested). */
export async function readLabels(store: ArtifactStore, exp: HumanTestExport, labels: ArtifactRef): Promise<LabelRow[]> {
  const text = new TextDecoder().decode(await store.get(labels));
  return parseLabels(text, exp.pairs.map((p) => p.id), labels.uri);
}

const EMPTY_RATIONALE = { matched: [], mismatched: [], motionFlaws: [], qualityFlaws: [], text: '' };

/** A labelled exported pair as a human-set record: pairwise labels only (annotators rank, appendix C); no grades, no rationale. */
function refreshedRecord(p: ExportedPairRecord, row: LabelRow, generator: string): HumanPairRecord {
  const video = (side: 'a' | 'b'): HumanPairRecord['a'] => ({
    id: side === 'a' ? p.candidateA : p.candidateB,
    origin: `generator:${generator}`,
    // No pointwise grade: the critic's pointwise agreement counts only graded videos (-1 = none).
    pointwise: { labels: {} as Record<HumanDimension, never>, agreement: {} as Record<HumanDimension, number>, scores: {} as Record<HumanDimension, number>, rationale: { ...EMPTY_RATIONALE, verdict: {} as never } },
  });
  return {
    id: p.id,
    split: 'heldout-test',
    prompt: { ...p.promptRecord, difficulty: 'unknown' as never, category: 'unknown' as never },
    a: video('a'),
    b: video('b'),
    pairwise: { labels: row.labels, agreement: Object.fromEntries(HUMAN_DIMENSIONS.map((d) => [d, 1])) as Record<HumanDimension, number> },
  };
}

export interface IngestArgs {
  export: ArtifactRef;
  labels: ArtifactRef;
  /** The bootstrap's test set: its first `fixedShare` of pairs stay in every refreshed set. */
  base: ArtifactRef;
  fixedShare: number;
}

export interface IngestResult {
  humanTest: ArtifactRef;
  fixedPairs: number;
  refreshedPairs: number;
  tieRate: number;
}

/** Validates the labels and writes the new test set (fixed part + refreshed part); a bad file writes nothing. */
export async function ingestHumanLabels(store: ArtifactStore, args: IngestArgs): Promise<IngestResult> {
  const exp = await getManifest<HumanTestExport>(store, args.export, 'dual-ipo/human-test-export@1', 'export');
  const rows = await readLabels(store, exp, args.labels);
  const folder = `${humanTestFolder(exp.campaignId, exp.round)}ingest-${args.labels.sha256.slice(0, 16)}/`;
  const done = await store.head(`${folder}human-test.json`);
  const base = await getManifest<HumanSet>(store, args.base, 'dual-ipo/human-set@1', 'humanTest');
  const fixedPairs = Math.round(args.fixedShare * base.records.length);
  const ties = rows.reduce((n, r) => n + HUMAN_DIMENSIONS.filter((d) => r.labels[d] === 'tie').length, 0);
  const tieRate = rows.length ? ties / (rows.length * HUMAN_DIMENSIONS.length) : 0;
  if (done) return { humanTest: done, fixedPairs, refreshedPairs: rows.length, tieRate };
  const fixed = base.records.slice(0, fixedPairs);
  const baseVideos = await getVideos(store, base.videos);
  const baseById = new Map(baseVideos.ids.map((id, i) => [id, baseVideos.videos[i]!]));
  const fresh = await getVideos(store, exp.videos);
  const freshById = new Map(fresh.ids.map((id, i) => [id, fresh.videos[i]!]));
  const records = [...fixed, ...exp.pairs.map((p, i) => refreshedRecord(p, rows[i]!, exp.generator.version))];
  const pixels = records.flatMap((r, i) => (['a', 'b'] as const).map((side) => (i < fixed.length ? baseById : freshById).get(`${r.id}/${side}`)!));
  const set: HumanSet = {
    format: 'dual-ipo/human-set@1',
    split: 'heldout-test',
    records,
    videos: await putVideos(store, `${folder}videos.dipv`, pixels, records.flatMap((r) => [`${r.id}/a`, `${r.id}/b`])),
    stats: { pairs: records.length, fixedPairs, refreshedPairs: rows.length, generator: exp.generator.version, round: exp.round, labels: args.labels.uri, base: args.base.uri, tieRate },
  };
  const humanTest = await store.putJson(`${folder}human-test.json`, set, { summary: { pairs: records.length, fixedPairs, refreshedPairs: rows.length } });
  return { humanTest, fixedPairs, refreshedPairs: rows.length, tieRate };
}


export type { HumanEvidence };
