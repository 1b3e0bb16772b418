// Loading a campaign config: YAML or JSON, validated before anything starts.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { sha256Hex, stableStringify } from '../lib/artifacts/stable-json';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { campaignConfigSchema, type CampaignConfig } from './schema';
import { STAGE_NAMES } from '../lib/stages/contract';
import { resolveProgram } from '../lib/stages/command/resolve';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One line per problem: `<file>: <field.path>: <what is expected>`. */
function describeIssues(source: string, issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.join('.') : '(top level)';
      return `${source}: ${field}: ${issue.message}`;
    })
    .join('\n');
}

/** An artifact store root as written in a file: a URI (s3://...) or absolute path as is, else relative to baseDir. */
export const resolveStoreRoot = (root: string, baseDir: string): string => (root.includes('://') || isAbsolute(root) ? root : resolve(baseDir, root));

export function parseConfig(raw: unknown, source = 'config', baseDir = process.cwd()): CampaignConfig {
  const result = campaignConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(`invalid campaign config\n${describeIssues(source, result.error.issues)}`);
  const config = result.data as CampaignConfig;
  config.artifacts.root = resolveStoreRoot(config.artifacts.root, baseDir);
  if (!config.campaign.id) config.campaign.id = deriveCampaignId(config, source);
  if (!CAMPAIGN_ID.test(config.campaign.id)) throw new ConfigError(`invalid campaign config\n${source}: campaign.id: "${config.campaign.id}" is not a usable id (${CAMPAIGN_ID_RULE})`);
  return config;
}

/**
 * A program that does not exist would otherwise be retried maxAttempts times as if the job had failed.
 * Checked where the jobs will run: by the campaign host before its own workers start (lib/campaign/
 * host.ts), not at config load, since a cluster's programs may exist only on its GPU hosts (whose
 * command backend refuses a missing one at once, non-retryable). A relative path counts from the
 * worker's working folder (or, for a config used where it lies, from the config's folder).
 */
export function checkCommands(config: CampaignConfig, source: string, baseDir: string = process.cwd()): void {
  const problems: string[] = [];
  for (const stage of STAGE_NAMES) {
    const { backend, command } = config.stages[stage];
    if (backend !== 'command' || !command?.length) continue;
    if (!resolveProgram(command[0]!, [process.cwd(), baseDir])) {
      problems.push(`${source}: stages.${stage}.command: program "${command[0]}" not found (not on PATH, and no executable file of that name relative to ${process.cwd()})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid campaign config\n${problems.join('\n')}`);
}

// The id becomes a folder name in the artifact store (campaigns/<id>/...) and a workflow id, so it
// follows the schema's identifier rule; a name like "../../etc" must not turn into a ".." segment.
const CAMPAIGN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CAMPAIGN_ID_RULE = 'letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit';

/** `<sanitised name>-<digest>`; names that sanitise to something safe give the ids they always gave. */
function deriveCampaignId(config: CampaignConfig, source: string): string {
  const { name } = config.campaign;
  const stem = name
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 40);
  if (!stem) {
    throw new ConfigError(
      `invalid campaign config\n${source}: campaign.name: "${name}" gives no usable campaign id (it needs a letter or digit); rename the campaign or set campaign.id (${CAMPAIGN_ID_RULE})`,
    );
  }
  return `${stem}-${configDigest(config).slice(0, 8)}`;
}

export function loadConfig(path: string): CampaignConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return parseConfig(raw, path, dirname(resolve(path)));
}

/** Digest of the config's content, ignoring the id itself (so an id can be derived from it). */
export function configDigest(config: CampaignConfig): string {
  const { campaign, ...rest } = config;
  const { id: _id, ...campaignRest } = campaign;
  return sha256Hex(stableStringify({ campaign: campaignRest, ...rest }));
}
