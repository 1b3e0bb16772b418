// Lineage manifests: one per round, the audit record of what was read, written and decided.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactRef } from './types';
import { ArtifactNotFoundError, InvalidArtifactKeyError, type ArtifactStore } from './store';
import { sha256Hex, stableStringify } from './stable-json';
import { codeVersionFromEnv } from '../code-version';

export { sha256Hex, stableStringify };

export interface ManifestGate {
  gate: 'critic' | 'eval';
  round?: number;
  accepted: boolean;
  reason: string;
  figures: Record<string, number>;
  approval?: { by: string; decision: 'accept' | 'reject'; reason: string; at: string; timedOut: boolean };
}

export interface RoundManifest {
  schema: 'dual-ipo/round-manifest@1';
  campaignId: string;
  round: number;
  status: 'accepted' | 'rejected' | 'failed' | 'stopped';
  reason: string;
  configHash: string;
  /** package version + git commit of the worker that wrote the manifest */
  codeVersion: string;
  critic: { before: string; after: string; refined: boolean; accepted?: boolean };
  generator: { before: string; after: string; accepted: boolean };
  inputs: Record<string, ArtifactRef>;
  outputs: Record<string, ArtifactRef>;
  gates: ManifestGate[];
  rollbacks: Array<{ what: 'critic' | 'generator'; from: string; to: string; reason: string }>;
  stages: Array<{ stage: string; step?: string; seconds: number; reused: boolean; startedAt: string; metrics: Record<string, number>; shards?: ShardSummary }>;
  evaluation: { total: number; quality: number; semantic: number } | null;
  championEvaluation: { total: number; quality: number; semantic: number };
  /**
   * The human test set the critic gate used, when refreshed from the champion's candidates
   * (workflows/human-test.ts): refreshed or not, from which generator, who labelled it, a timeout.
   */
  humanTest?: { source: 'champion'; generator: string; refreshed: boolean; timedOut?: boolean; onTimeout?: string; humanTest?: ArtifactRef; by?: string; fixedPairs?: number; refreshedPairs?: number; refused?: number; reason: string };
  startedAt: string;
  finishedAt: string;
}

/** A sharded stage's fan-out, as the round manifest records it (absent for a single activity). */
export interface ShardSummary {
  count: number;
  shardSize: number;
  maxParallel: number;
  /** Activity attempts over all shards (count when none was retried). */
  attempts: number;
  retried: number;
  reused: number;
  /** Shards finished per worker identity. */
  hosts: Record<string, number>;
  /** Every shard's attempt and worker (the merge step writes it beside the stage's outputs). */
  ledger?: ArtifactRef;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function roundFolder(campaignId: string, round: number): string {
  // Non-retryable: a bad id stays bad, and five retries only delay the message.
  if (!SAFE_SEGMENT.test(campaignId)) throw new InvalidArtifactKeyError(`campaign id "${campaignId}" cannot be used as an artifact key segment (letters, digits, . _ -)`);
  if (!Number.isInteger(round) || round < 0) throw new Error(`round must be a non-negative integer, got ${round}`);
  return `campaigns/${campaignId}/round-${String(round).padStart(4, '0')}`;
}

/** Deterministic output folder of a stage (or of one of its shards): the same request always writes the same keys. */
export function outputPrefix(campaignId: string, round: number, stage: string, step?: string, shard?: number): string {
  const name = step ? `${stage}-${step}` : stage;
  if (!SAFE_SEGMENT.test(name)) throw new InvalidArtifactKeyError(`stage/step "${name}" cannot be used as an artifact key segment`);
  if (shard === undefined) return `${roundFolder(campaignId, round)}/${name}/`;
  if (!Number.isInteger(shard) || shard < 0) throw new InvalidArtifactKeyError(`shard index must be a non-negative integer, got ${shard}`);
  return `${roundFolder(campaignId, round)}/${name}/shards/${String(shard).padStart(5, '0')}/`;
}

export function manifestKey(campaignId: string, round: number): string {
  return `${roundFolder(campaignId, round)}/manifest.json`;
}

export function configHash(config: unknown): string {
  return sha256Hex(stableStringify(config));
}

const cachedVersions = new Map<string, string>();
export function codeVersion(repoDir = join(import.meta.dirname, '..', '..')): string {
  const fromEnv = codeVersionFromEnv();
  if (fromEnv) return fromEnv;
  const cached = cachedVersions.get(repoDir);
  if (cached) return cached;
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // keep 'unknown'
  }
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoDir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (commit) version = `${version}+${commit}`;
  } catch {
    // not a git checkout
  }
  cachedVersions.set(repoDir, version);
  return version;
}

export async function writeManifest(store: ArtifactStore, manifest: RoundManifest): Promise<ArtifactRef> {
  const complete = { ...manifest, codeVersion: manifest.codeVersion || codeVersion() };
  return store.putJson(manifestKey(manifest.campaignId, manifest.round), complete, {
    summary: { status: manifest.status, round: manifest.round },
  });
}

export async function readManifest(store: ArtifactStore, refOrKey: ArtifactRef | string): Promise<RoundManifest> {
  const ref = typeof refOrKey === 'string' ? await store.head(refOrKey) : refOrKey;
  if (!ref) throw new ArtifactNotFoundError(`no round manifest at ${store.uriFor(refOrKey as string)}`);
  const manifest = await store.getJson<RoundManifest>(ref);
  if (manifest?.schema !== 'dual-ipo/round-manifest@1') {
    throw new Error(`${ref.uri} is not a round manifest (schema "${String(manifest?.schema)}", expected "dual-ipo/round-manifest@1")`);
  }
  return manifest;
}
