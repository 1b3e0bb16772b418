// A container image has no git checkout, so the package.json version alone would be recorded in every
// round manifest and the audit could not tell two images apart. The image build passes the exact
// code version (`--build-arg CODE_VERSION=...`, see deploy/*.Dockerfile) through this variable.

/** The code version set from outside (DUAL_IPO_CODE_VERSION), or undefined when unset or blank. */
export function codeVersionFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.DUAL_IPO_CODE_VERSION?.trim();
  return value ? value : undefined;
}
