// Champion bookkeeping in the artifact store, so people and other tools can see which critic and
// generator a campaign currently trusts, and what was rolled back. Every write is idempotent: the
// same call twice leaves the same bytes.
import { createHash } from 'node:crypto';
import type { ArtifactStore } from '../lib/artifacts/store';
import type { ArtifactRef } from '../lib/artifacts/types';
import { writeManifest, type RoundManifest } from '../lib/artifacts/manifest';
import { storeFor } from '../lib/stages/runner';
import type { StoreLocation } from '../lib/stages/contract';

export interface Versioned {
  version: string;
  ref: ArtifactRef;
}

export interface ChampionPointer {
  campaignId: string;
  kind: 'critic' | 'generator';
  version: string;
  ref: ArtifactRef;
  round: number;
  reason: string;
}

const pointerKey = (campaignId: string, kind: string) => `campaigns/${campaignId}/champions/${kind}.json`;
const roundKey = (campaignId: string, round: number) => `campaigns/${campaignId}/round-${String(round).padStart(4, '0')}`;

/** A retry that would write the same bytes leaves the finished object (and its timestamps) alone. */
async function putUnlessSame(store: ArtifactStore, key: string, text: string): Promise<ArtifactRef> {
  const current = await store.head(key);
  if (current && current.sha256 === createHash('sha256').update(text).digest('hex')) return current;
  return store.put(key, text);
}

export async function promoteChampion(input: { store: StoreLocation } & ChampionPointer): Promise<ArtifactRef> {
  const { store: location, ...pointer } = input;
  return putUnlessSame(storeFor(location), pointerKey(pointer.campaignId, pointer.kind), JSON.stringify(pointer, null, 2));
}

/** Compensation: the candidate is marked discarded (kept for audit) and the champion pointer restored. */
export async function rollbackChampion(input: {
  store: StoreLocation;
  campaignId: string;
  round: number;
  kind: 'critic' | 'generator';
  candidate?: Versioned;
  champion: Versioned;
  reason: string;
}): Promise<void> {
  const store = storeFor(input.store);
  const record = {
    campaignId: input.campaignId,
    round: input.round,
    kind: input.kind,
    discarded: input.candidate ?? null,
    restored: input.champion,
    reason: input.reason,
  };
  await putUnlessSame(store, `${roundKey(input.campaignId, input.round)}/rollback-${input.kind}.json`, JSON.stringify(record, null, 2));
  const current = await store.head(pointerKey(input.campaignId, input.kind));
  if (current) {
    const pointer = JSON.parse(new TextDecoder().decode(await store.get(current))) as ChampionPointer;
    if (pointer.version === input.champion.version) return;
  }
  await store.put(
    pointerKey(input.campaignId, input.kind),
    JSON.stringify(
      { campaignId: input.campaignId, kind: input.kind, ...input.champion, round: input.round, reason: `rollback: ${input.reason}` },
      null,
      2,
    ),
  );
}

export async function writeRoundManifest(input: { store: StoreLocation; manifest: RoundManifest }): Promise<ArtifactRef> {
  return writeManifest(storeFor(input.store), input.manifest);
}

export async function writeCampaignRecord(input: { store: StoreLocation; campaignId: string; record: unknown }): Promise<ArtifactRef> {
  return putUnlessSame(storeFor(input.store), `campaigns/${input.campaignId}/campaign.json`, JSON.stringify(input.record, null, 2));
}
