// `dual-ipo experiment --config FILE`: the paper's ablations as variants x seeds of a campaign.
import { resolve } from 'node:path';
import { loadExperiment } from '../experiment/config';
import { runExperiment } from '../experiment/run';
import { writeExperimentReport } from '../experiment/report';
import { formatDifference, formatMeanStd, pairedDifference, summariseVariants } from '../experiment/summary';
import { parse, requireString, UsageError, type Options } from './args';
import { installWorkerLog } from '../campaign/worker-log';

export const EXPERIMENT_OPTIONS = { config: { type: 'string' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' }, variants: { type: 'string' }, seeds: { type: 'string' } } as const satisfies Options;

export const EXPERIMENT_HELP = `Usage: dual-ipo experiment --config FILE [--variants A,B] [--seeds 1,2] [--out DIR] [--dry-run]

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
    compare: [[dual-ipo, static-data]]  # paired differences a - b per seed (held-out gain, user study)
    variants:                        # name: overrides of the campaign config
      dual-ipo: {}
      static-data: { campaign: { criticRefinement: never }, generation: { staticPreferences: true } }
      kto: { generator: { method: kto } }

Options:
  --config FILE   the experiment file
  --variants A,B  only these variants (the others are neither run nor reported)
  --seeds 1,2     only these seeds, in place of the file's (a later run can add seeds; finished
                  campaigns and their audits are reused)
  --out DIR       where the results go
  --dry-run       validate and list the planned campaigns without running them
  -h, --help      show this help`;

export async function experimentCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, EXPERIMENT_OPTIONS, EXPERIMENT_HELP);
  if (help) return void console.log(EXPERIMENT_HELP), 0;
  const list = (name: string) => (values[name] === undefined ? undefined : String(values[name]).split(',').map((x) => x.trim()).filter(Boolean));
  const seeds = list('seeds')?.map((x) => {
    if (!/^-?\d+$/.test(x)) throw new UsageError(`--seeds: "${x}" is not an integer\n\n${EXPERIMENT_HELP}`);
    return Number(x);
  });
  const variants = list('variants');
  const { experiment, runs } = loadExperiment(requireString(values, 'config', EXPERIMENT_HELP), { ...(variants ? { variants } : {}), ...(seeds ? { seeds } : {}) });
  const planned = (key: 'variant' | 'seed') => new Set(runs.map((r) => r[key])).size;
  console.log(`experiment ${experiment.name}: ${planned('variant')} variant(s) x ${planned('seed')} seed(s) = ${runs.length} campaign(s)`);
  if (values['dry-run']) {
    for (const r of runs) console.log(`  ${r.config.campaign.id}`);
    return 0;
  }
  console.log(`worker log: ${installWorkerLog('experiment')}`);
  const results = await runExperiment(experiment, runs, (line) => console.log(line));
  const compare = experiment.compare.filter(([a, b]) => results.some((r) => r.variant === a) && results.some((r) => r.variant === b));
  const file = await writeExperimentReport(experiment.name, results, resolve((values.out as string | undefined) ?? `reports/experiment-${experiment.name}`), compare);
  for (const s of summariseVariants(results)) {
    const heldOut = s.auditGain ? `  held-out: final ${formatMeanStd(s.auditFinal!)}  gain ${formatMeanStd(s.auditGain)}  user study net ${formatMeanStd(s.studyNet!, 3)}` : '';
    console.log(`${s.variant.padEnd(24)} gate set: final Total ${formatMeanStd(s.finalTotal)}  gain ${formatMeanStd(s.gain)}${heldOut}`);
  }
  for (const [a, b] of compare) {
    const d = pairedDifference(results, a, b);
    if (d.seeds.length) console.log(`${`${a} - ${b}`.padEnd(32)} held-out gain ${formatDifference(d.totalMean)}  user study net ${formatDifference(d.studyMean, 3)}  (seeds ${d.seeds.join(', ')})`);
  }
  console.log(`results: ${file}`);
  return 0;
}
