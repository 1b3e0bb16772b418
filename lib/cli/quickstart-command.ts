// `dual-ipo quickstart`: the whole Dual-IPO loop on this machine with the builtin reference world
// and models, on the embedded Temporal server, ending with the report. Running it again resumes the
// same campaign (its id derives from the config), so Ctrl-C costs nothing.
import { auditCampaign } from '../experiment/audit';
import { join, resolve } from 'node:path';
import { loadConfig, parseConfig } from '../../config/load';
import { deepMerge } from '../experiment/config';
import { openStore } from '../artifacts';
import { writeReport } from '../report/write';
import { parse, type Options } from './args';
import { startAndFollow, summariseResult } from './run-command';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
export const QUICKSTART_CONFIG = join(ROOT, 'config', 'examples', 'quickstart.yaml');
export const QUICKSTART_TINY_CONFIG = join(ROOT, 'config', 'examples', 'quickstart-tiny.yaml');

/**
 * Held-out audit prompts of the quickstart: 1,024 (standard error about 0.1 point of Total, about 18 s
 * per generator) keep it inside its 15 minutes; experiments audit on AUDIT_PROMPTS (2,048).
 */
const QUICKSTART_AUDIT_PROMPTS = 1024;

export const QUICKSTART_OPTIONS = { rounds: { type: 'string' }, seed: { type: 'string' }, tiny: { type: 'boolean' }, out: { type: 'string' }, artifacts: { type: 'string' } } as const satisfies Options;

export const QUICKSTART_HELP = `Usage: dual-ipo quickstart [--rounds N] [--seed S] [--tiny] [--out DIR] [--artifacts ROOT]

Runs a Dual-IPO campaign end to end on this machine: starts (or reuses) the embedded Temporal
server and in-process workers, builds the reference world's datasets and the base models when
absent (cached as artifacts), then runs the rounds with the critic refinement, both gates and the
stopping rule live, scores the base and every accepted generator on 1,024 held-out prompts no gate saw (4 with --tiny)
(the audit, with the final gain's standard error), and writes the report. Interrupt it with Ctrl-C and run it again to resume.

Options:
  --rounds N   rounds (default 3, from config/examples/quickstart.yaml)
  --seed S     campaign seed (default 1); each seed is its own campaign
  --tiny       the CI-sized world (1 round, tiny models; a smoke test, not a result)
  --out DIR    report folder (default reports/<campaign id>)
  --artifacts ROOT   artifact store (default .data/artifacts; a path, file:// or s3:// URI)
  -h, --help         show this help`;

export async function quickstartCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, QUICKSTART_OPTIONS, QUICKSTART_HELP);
  if (help) return void console.log(QUICKSTART_HELP), 0;
  const file = values.tiny ? QUICKSTART_TINY_CONFIG : QUICKSTART_CONFIG;
  const base = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const overrides: Record<string, unknown> = { campaign: {} };
  const campaign = overrides.campaign as Record<string, unknown>;
  if (values.rounds !== undefined) campaign.maxRounds = Number(values.rounds);
  if (values.seed !== undefined) campaign.seed = Number(values.seed);
  const artifacts = values.artifacts as string | undefined;
  if (artifacts !== undefined) overrides.artifacts = { root: artifacts.includes('://') ? artifacts : resolve(artifacts) };
  const config = parseConfig(deepMerge(base, overrides), file, join(ROOT, 'config', 'examples'));
  // Validate the file itself too, so a broken example is reported against its own name.
  loadConfig(file);
  console.log(`quickstart: campaign ${config.campaign.id}, ${config.campaign.maxRounds} round(s), seed ${config.campaign.seed}; artifacts in ${config.artifacts.root}`);
  const started = Date.now();
  const result = await startAndFollow({ config, runWorkers: true, detach: false });
  if (!result) return 1;
  console.log(summariseResult(result));
  const out = resolve((values.out as string | undefined) ?? join('reports', config.campaign.id!));
  const store = openStore(config.artifacts.root, config.artifacts.s3);
  const audit = await auditCampaign(store, config.campaign.id!, { prompts: values.tiny ? 4 : QUICKSTART_AUDIT_PROMPTS });
  if (audit) {
    const last = audit.generators.at(-1)!;
    // The error bar says whether the gain is more than noise (paired over the same prompts and seeds).
    const gain = last.gainStandardError !== undefined ? `; gain ${(last.total - audit.generators[0]!.total).toFixed(2)} ± ${last.gainStandardError.toFixed(2)} (standard error)` : '';
    console.log(`held-out audit (${audit.videos} videos of ${audit.prompts} prompts no gate saw): Total ${audit.generators.map((g) => `${g.version} ${g.total.toFixed(2)}`).join(' -> ')}${gain}`);
  }
  const report = await writeReport(store, config.campaign.id!, out);
  console.log(`report: ${report}`);
  console.log(`quickstart finished in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  return 0;
}
