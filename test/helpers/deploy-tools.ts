// The deploy kit's test tools (hadolint, kubernetes-validate, moto_server), installed by
// scripts/setup-deploy-tools.sh into .tools/deploy (or DUAL_IPO_DEPLOY_TOOLS). In CI a missing tool
// fails the test that needs it, so a broken install cannot pass as skipped tests; on a developer's
// machine the test is skipped with the command that installs the tools.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const INSTALL_COMMAND = 'bash scripts/setup-deploy-tools.sh (or npm run setup)';

export function deployToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DUAL_IPO_DEPLOY_TOOLS || join(REPO_ROOT, '.tools', 'deploy'));
}

/** The executable's path: the deploy tools venv first, then PATH; undefined when neither has it. */
export function findDeployTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [join(deployToolsDir(env), 'bin'), ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** The tool's path, or: in CI an assertion failure, elsewhere a skip. Callers return on undefined. */
export function requireDeployTool(t: TestContext, name: string): string | undefined {
  const path = findDeployTool(name);
  if (path) return path;
  const message = `${name} is not installed in ${join(deployToolsDir(), 'bin')} nor on PATH; install it with ${INSTALL_COMMAND}`;
  if (process.env.CI) assert.fail(message);
  t.skip(message);
  return undefined;
}
