// Critic checkpoints: lib/models/checkpoint.ts's format with kind 'critic'. The config carries the
// tokenizer's vocabulary and the pixel-feature version; the meta carries the base seed, from which
// the SRPO reference (the untrained base critic) is rebuilt instead of being stored.
import type { ArtifactRef, ArtifactStore } from '../../artifacts';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint';
import { featureSize } from './features';
import { CRITIC_KIND, criticParamShapes, initCritic, type CriticConfig, type CriticModel } from './model';

function checkFeatures(config: CriticConfig, where: string): void {
  let size: number;
  try {
    size = featureSize(config.featureVersion);
  } catch (e) {
    throw new CheckpointError(`checkpoint ${where}: config.featureVersion: ${(e as Error).message}`);
  }
  if (config.features !== size) throw new CheckpointError(`checkpoint ${where}: config.features: ${config.features} values, feature version ${config.featureVersion} has ${size}`);
}

function toModel(ckpt: { config: CriticConfig; meta: Record<string, unknown>; params: CriticModel['params'] }, where: string): CriticModel {
  checkFeatures(ckpt.config, where);
  const baseSeed = ckpt.meta.baseSeed;
  if (typeof baseSeed !== 'string' && typeof baseSeed !== 'number') throw new CheckpointError(`checkpoint ${where}: meta.baseSeed: missing (needed to rebuild the SRPO reference)`);
  return { config: ckpt.config, params: ckpt.params, baseSeed };
}

export function encodeCritic(model: CriticModel, meta: Record<string, unknown> = {}): Uint8Array {
  return encodeCheckpoint({ kind: CRITIC_KIND, config: model.config, meta: { ...meta, baseSeed: model.baseSeed }, params: model.params });
}

export function decodeCritic(bytes: Uint8Array, file = 'critic'): CriticModel {
  return toModel(decodeCheckpoint<CriticConfig>(bytes, file, { kind: CRITIC_KIND, shapesFor: criticParamShapes }), file);
}

/** Saves a critic under `key`; `summary` lands in the artifact's sidecar (e.g. agreement figures). */
export async function saveCritic(store: ArtifactStore, key: string, model: CriticModel, meta: Record<string, unknown> = {}, summary: ArtifactRef['summary'] = {}): Promise<ArtifactRef> {
  return saveCheckpoint(store, key, { kind: CRITIC_KIND, config: model.config, meta: { ...meta, baseSeed: model.baseSeed }, params: model.params }, summary);
}

/** Loads and verifies a critic (store sha256, body sha256, kind, shapes, feature version); throws CheckpointError. */
export async function loadCritic(store: ArtifactStore, ref: ArtifactRef): Promise<CriticModel> {
  return toModel(await loadCheckpoint<CriticConfig>(store, ref, { kind: CRITIC_KIND, shapesFor: criticParamShapes }), ref.uri);
}

/** The SRPO / PCE reference of a critic: its base (untrained) self, rebuilt from config and base seed. */
export function referenceCritic(model: CriticModel): CriticModel {
  return initCritic(model.config, model.config.text.vocab, model.baseSeed);
}
