// The artifact store package: pick an implementation from a URI.
import { LocalArtifactStore } from './local';
import { S3ArtifactStore } from './s3';
import type { ArtifactStore, S3Options } from './store';

export * from './types';
export * from './store';
export { LocalArtifactStore } from './local';
export { S3ArtifactStore } from './s3';
export { S3_CREDENTIALS_HINT } from './store-errors';
export { checkWritable, type CheckWritableOptions } from './preflight';

/** `s3://bucket/prefix`, `file:///abs/path`, or a filesystem path (relative to the working directory). */
export function openStore(uri: string, s3?: S3Options): ArtifactStore {
  return uri.startsWith('s3://') ? new S3ArtifactStore(uri, s3) : new LocalArtifactStore(uri);
}
