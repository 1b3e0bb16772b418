// The store a campaign's stages will write to, checked before the campaign starts (see
// lib/artifacts/preflight.ts): a root that cannot be written fails the start with its name instead
// of hanging a stage while it holds a worker slot.
import { checkWritable, type CheckWritableOptions } from '../artifacts/preflight';
import type { StoreLocation } from './contract';
import { storeFor } from './runner';

export async function checkStageStore(location: StoreLocation, opts?: CheckWritableOptions): Promise<void> {
  await checkWritable(storeFor(location), opts);
}
