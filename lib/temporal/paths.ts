// The embedded dev server's files under the project's data folder (lib/paths.ts).
import { join } from 'node:path';
import { dataDir } from '../paths';

export { dataDir, REPO_ROOT, TOOLS_DIR } from '../paths';

/** The embedded dev server's files: SQLite database, log, pid file and the lock taken while starting. */
export function devServerFiles(dir: string = dataDir()) {
  const root = join(dir, 'temporal');
  return {
    dir: root,
    dbFile: join(root, 'temporal.db'),
    logFile: join(root, 'server.log'),
    pidFile: join(root, 'server.pid'),
    lockFile: join(root, 'start.lock'),
  };
}
