// The in-process reference models (lib/models). Until they exist, choosing 'builtin' is a clear
// configuration error, never a stub.
import type { StageImpl, StageName } from '../types';

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
  readonly nonRetryable = true;
}

let cached: Promise<Partial<Record<StageName, StageImpl>> | undefined> | undefined;

async function loadBuiltinStages(): Promise<Partial<Record<StageName, StageImpl>> | undefined> {
  // A variable specifier: the module arrives with the reference models and may be absent.
  const specifier = '../../lib/models/builtin';
  cached ??= import(specifier)
    .then((m: { builtinStages?: Partial<Record<StageName, StageImpl>> }) => m.builtinStages)
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(err.message)) return undefined;
      throw err;
    });
  return cached;
}

export async function builtinAvailable(stage: StageName): Promise<boolean> {
  return (await loadBuiltinStages())?.[stage] !== undefined;
}

export async function builtinStage(stage: StageName): Promise<StageImpl> {
  const impl = (await loadBuiltinStages())?.[stage];
  if (!impl) {
    throw new BackendUnavailableError(
      `stage "${stage}" uses backend "builtin", but the builtin reference models do not implement it in this version; ` +
        `set stages.${stage}.backend to "command" with a command (see docs/command-backend.md)`,
    );
  }
  return impl;
}
