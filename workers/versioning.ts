// Temporal Worker Deployment versioning: a worker declares (deployment name, build id), and every
// campaign is PINNED to the version that was current when it started: its workflow tasks, its rounds
// (child workflows) and its stage activities on every queue go only to workers of that version, until
// it ends, however many newer versions become current meanwhile. New campaigns take the current one.
// Off unless a deployment name is given (the local quickstart runs one version and needs none of it).
import type { WorkerOptions } from '@temporalio/worker';

export const DEPLOYMENT_ENV = 'DUAL_IPO_WORKER_DEPLOYMENT';
export const BUILD_ID_ENV = 'DUAL_IPO_BUILD_ID';

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

function check(what: string, value: string): string {
  // The server's limit for both fields; '.' was the name/build-id separator of the earlier
  // version strings ("name.buildId") and is still refused in names by some servers.
  if (!value || value.length > 255 || /\s/.test(value) || (what === 'deployment name' && value.includes('.'))) {
    throw new Error(`worker ${what} "${value}": 1-255 characters, no whitespace${what === 'deployment name' ? ", no '.'" : ''}`);
  }
  return value;
}

/**
 * The worker's deployment version, or undefined (versioning off) when neither the flag nor
 * DUAL_IPO_WORKER_DEPLOYMENT names a deployment. The build id is DUAL_IPO_BUILD_ID, else the running
 * code's version (DUAL_IPO_CODE_VERSION in an image, package version + git commit in a checkout).
 */
export function deploymentVersionFrom(flag: string | undefined, codeVersion: () => string, env: NodeJS.ProcessEnv = process.env): DeploymentVersion | undefined {
  const name = (flag ?? env[DEPLOYMENT_ENV])?.trim();
  if (!name) return undefined;
  return { deploymentName: check('deployment name', name), buildId: check('build id', env[BUILD_ID_ENV]?.trim() || codeVersion()) };
}

/** The Worker.create options for a version (none without one: an unversioned worker). */
export function deploymentOptions(version: DeploymentVersion | undefined): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!version) return {};
  return { workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' } };
}
