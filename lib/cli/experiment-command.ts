// `dual-ipo experiment --config FILE`: the paper's ablations as variants x seeds of a campaign.
import { resolve } from 'node:path';
import { loadExperiment } from '../experiment/config';
import { runExperiment } from '../experiment/run';
import { writeExperimentReport } from '../experiment/report';
import { formatMeanStd, summariseVariants } from '../experiment/summary';
import { parse, requireString, type Options } from './args';
import { installWorkerLog } from '../campaign/worker-log';

export const EXPERIMENT_OPTIONS = { config: { type: 'string' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const satisfies Options;

export const EXPERIMENT_HELP = `Usage: dual-ipo experiment --config FILE [--out DIR] [--dry-run]

Runs every variant x seed of an experiment as its own durable campaign (rerunning resumes them),
then writes the results table (final Total and gain over the base model, mean ± std over seeds) to
DIR/index.html and DIR/results.json (default reports/experiment-<name>/). With the builtin
evaluate backend each finished campaign is also audited: its base and each accepted generator are
scored on fresh prompts that no gate saw (the gate set's gains are biased upward by the gate's
choice), 2,048 of them by default (about 35 s per generator; on 256 the error bars were as wide as
the gains).

The experiment file (YAML):
  experiment:
    name: ablations
    base: quickstart.yaml            # a campaign config, relative to this file
    seeds: [1, 2, 3]
    concurrency: 1                   # campaigns at once
    auditPrompts: 2048               # held-out audit prompts (2 videos each)
    common: {}                       # overrides every variant shares (artifacts.root: relative to this file)
    variants:                        # name: overrides of the campaign config
      dual-ipo: {}
      static-data: { campaign: { criticRefinement: never }, generation: { staticPreferences: true } }
      kto: { generator: { method: kto } }

Options:
  --config FILE   the experiment file
  --out DIR       where the results go
  --dry-run       validate and list the planned campaigns without running them
  -h, --help      show this help`;

export async function experimentCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, EXPERIMENT_OPTIONS, EXPERIMENT_HELP);
  if (help) return void console.log(EXPERIMENT_HELP), 0;
  const { experiment, runs } = loadExperiment(requireString(values, 'config', EXPERIMENT_HELP));
  console.log(`experiment ${experiment.name}: ${Object.keys(experiment.variants).length} variant(s) x ${experiment.seeds.length} seed(s) = ${runs.length} campaign(s)`);
  if (values['dry-run']) {
    for (const r of runs) console.log(`  ${r.config.campaign.id}`);
    return 0;
  }
  console.log(`worker log: ${installWorkerLog('experiment')}`);
  const results = await runExperiment(experiment, runs, (line) => console.log(line));
  const file = await writeExperimentReport(experiment.name, results, resolve((values.out as string | undefined) ?? `reports/experiment-${experiment.name}`));
  for (const s of summariseVariants(results)) {
    const heldOut = s.auditGain ? `  held-out: final ${formatMeanStd(s.auditFinal!)}  gain ${formatMeanStd(s.auditGain)}` : '';
    console.log(`${s.variant.padEnd(24)} gate set: final Total ${formatMeanStd(s.finalTotal)}  gain ${formatMeanStd(s.gain)}${heldOut}`);
  }
  console.log(`results: ${file}`);
  return 0;
}
