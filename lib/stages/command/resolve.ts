// Where a job's program comes from: argv[0] as the shell will look it up. A command that names no
// program that exists is a configuration error, refused at once (at config load and again before a
// job starts) instead of being retried as if a job had failed.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

function executableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file argv[0] names, or undefined when there is none: a bare name is looked up on PATH; a path
 * (with a "/") is taken as is, relative to each of `dirs` in turn (default: the current folder).
 */
export function resolveProgram(program: string, dirs: string[] = [process.cwd()], path = process.env.PATH ?? ''): string | undefined {
  if (program === '') return undefined;
  if (!program.includes('/')) {
    for (const dir of path.split(delimiter)) {
      const candidate = join(dir || '.', program);
      if (executableFile(candidate)) return candidate;
    }
    return undefined;
  }
  if (isAbsolute(program)) return executableFile(program) ? program : undefined;
  for (const dir of dirs) {
    const candidate = resolve(dir, program);
    if (executableFile(candidate)) return candidate;
  }
  return undefined;
}
