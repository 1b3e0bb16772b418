// Where the project keeps its local state (DUAL_IPO_DATA_DIR) and the tools that setup.sh installs.
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const TOOLS_DIR = join(REPO_ROOT, '.tools');

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DUAL_IPO_DATA_DIR || join(REPO_ROOT, '.data'));
}
