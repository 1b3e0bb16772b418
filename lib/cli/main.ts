// The `dual-ipo` command line: one function per command, each with its own --help.
import { UsageError, type CommandSpec } from './args';

type Command = {
  summary: string;
  load: () => Promise<(argv: string[]) => Promise<number>>;
  /** Its help text and the options it parses: a test holds them equal (every --flag in one is in the other). */
  spec: () => Promise<CommandSpec>;
};

const campaign = () => import('./campaign-commands');

export const COMMANDS: Record<string, Command> = {
  quickstart: { summary: 'run the whole Dual-IPO loop on this machine with the builtin world and models, then the report', load: async () => (await import('./quickstart-command')).quickstartCommand, spec: async () => { const m = await import('./quickstart-command'); return { help: m.QUICKSTART_HELP, options: m.QUICKSTART_OPTIONS }; } },
  run: { summary: 'start or resume a campaign from a config file', load: async () => (await import('./run-command')).runCommand, spec: async () => { const m = await import('./run-command'); return { help: m.RUN_HELP, options: m.RUN_OPTIONS }; } },
  list: { summary: 'the campaigns of the namespace with state, round and champions (filter by state, name)', load: async () => (await import('./list-command')).listCommand, spec: async () => { const m = await import('./list-command'); return { help: m.LIST_HELP, options: m.LIST_OPTIONS }; } },
  status: { summary: 'round, stage, progress, champions and last gates of a campaign (--watch; exit status = its state)', load: async () => (await campaign()).statusCommand, spec: async () => { const m = await campaign(); return { help: m.STATUS_HELP, options: m.STATUS_OPTIONS }; } },
  history: { summary: 'the audit: per round timings, gates, approvals, rollbacks, artifacts', load: async () => (await campaign()).historyCommand, spec: async () => { const m = await campaign(); return { help: m.HISTORY_HELP, options: m.HISTORY_OPTIONS }; } },
  pause: { summary: 'pause a campaign before its next stage', load: async () => (await campaign()).pauseCommand, spec: async () => { const m = await campaign(); return { help: m.PAUSE_HELP, options: m.CONTROL_OPTIONS }; } },
  resume: { summary: 'resume a paused campaign', load: async () => (await campaign()).resumeCommand, spec: async () => { const m = await campaign(); return { help: m.RESUME_HELP, options: m.CONTROL_OPTIONS }; } },
  stop: { summary: 'stop a campaign after the current round (--now: cancel with compensation)', load: async () => (await campaign()).stopCommand, spec: async () => { const m = await campaign(); return { help: m.STOP_HELP, options: m.STOP_OPTIONS }; } },
  approve: { summary: 'answer a manual approval at the critic or eval gate', load: async () => (await campaign()).approveCommand, spec: async () => { const m = await campaign(); return { help: m.APPROVE_HELP, options: m.APPROVE_OPTIONS }; } },
  labels: { summary: 'submit human labels for the pairs a round exported for annotation (validated first)', load: async () => (await import('./labels-command')).labelsCommand, spec: async () => { const m = await import('./labels-command'); return { help: m.LABELS_HELP, options: m.LABELS_OPTIONS }; } },
  server: { summary: 'start (or reuse) the local Temporal dev server with its Web UI', load: async () => (await import('./server-command')).serverCommand, spec: async () => { const m = await import('./server-command'); return { help: m.SERVER_HELP, options: m.SERVER_OPTIONS }; } },
  worker: { summary: 'run workers for the given task queues (on TEMPORAL_ADDRESS / --address, or --dev)', load: async () => (await import('./worker-command')).workerCommand, spec: async () => { const m = await import('./worker-command'); return { help: m.WORKER_HELP, options: m.WORKER_OPTIONS }; } },
  report: { summary: 'write the self-contained HTML report of a campaign', load: async () => (await import('./report-command')).reportCommand, spec: async () => { const m = await import('./report-command'); return { help: m.REPORT_HELP, options: m.REPORT_OPTIONS }; } },
  experiment: { summary: 'run the paper\'s ablations: variants x seeds of a campaign, with a results table', load: async () => (await import('./experiment-command')).experimentCommand, spec: async () => { const m = await import('./experiment-command'); return { help: m.EXPERIMENT_HELP, options: m.EXPERIMENT_OPTIONS }; } },
  doctor: { summary: 'check the tfjs backend, onnxruntime, Temporal (binaries, or the cluster) and the artifact store', load: async () => (await import('./doctor-command')).doctorCommand, spec: async () => { const m = await import('./doctor-command'); return { help: m.DOCTOR_HELP, options: m.DOCTOR_OPTIONS }; } },
  prompts: { summary: 'print prompts of the reference world as JSON lines (and their distribution)', load: async () => (await import('./world-commands')).promptsCommand, spec: async () => { const m = await import('./world-commands'); return { help: m.PROMPTS_HELP, options: m.PROMPTS_OPTIONS }; } },
  evaluate: { summary: 'score videos with the VBench-style evaluator of the reference world', load: async () => (await import('./world-commands')).evaluateCommand, spec: async () => { const m = await import('./world-commands'); return { help: m.EVALUATE_HELP, options: m.EVALUATE_OPTIONS }; } },
};

export const MAIN_HELP = `Usage: dual-ipo <command> [options]

Dual-IPO post-training campaigns for text-to-video models, run as durable Temporal workflows.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`dual-ipo <command> --help\` for a command's options, \`dual-ipo --version\` for the version.`;

/** package version + git commit (or DUAL_IPO_CODE_VERSION, as set in the images): what the round manifests record. */
export async function versionText(): Promise<string> {
  const { codeVersion } = await import('../artifacts/manifest');
  return `dual-ipo ${codeVersion()}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(await versionText());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    const e = err as Error;
    console.error(`dual-ipo ${name}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`);
    if (process.env.DUAL_IPO_DEBUG) console.error(e.stack);
    return 1;
  }
}
