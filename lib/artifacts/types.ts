// What travels through Temporal instead of data: where the bytes are and how to check them.
export interface ArtifactRef {
  /** file:///abs/path or s3://bucket/key */
  uri: string;
  /** hex sha256 of the exact bytes */
  sha256: string;
  /** bytes */
  size: number;
  /** small and human-readable; never bulk data */
  summary?: Record<string, string | number | boolean | null>;
}
