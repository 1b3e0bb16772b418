// The `dual-ipo` command line: one function per command, each with its own --help.
import { UsageError } from './args';

type Command = { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> };

const COMMANDS: Record<string, Command> = {
  quickstart: { summary: 'run the whole Dual-IPO loop on this machine with the builtin world and models, then the report', load: async () => (await import('./quickstart-command')).quickstartCommand },
  run: { summary: 'start or resume a campaign from a config file', load: async () => (await import('./run-command')).runCommand },
  status: { summary: 'round, stage, progress, champions and last gates of a campaign', load: async () => (await import('./campaign-commands')).statusCommand },
  history: { summary: 'the audit: per round timings, gates, approvals, rollbacks, artifacts', load: async () => (await import('./campaign-commands')).historyCommand },
  pause: { summary: 'pause a campaign before its next stage', load: async () => (await import('./campaign-commands')).pauseCommand },
  resume: { summary: 'resume a paused campaign', load: async () => (await import('./campaign-commands')).resumeCommand },
  stop: { summary: 'stop a campaign after the current round (--now: cancel with compensation)', load: async () => (await import('./campaign-commands')).stopCommand },
  approve: { summary: 'answer a manual approval at the critic or eval gate', load: async () => (await import('./campaign-commands')).approveCommand },
  server: { summary: 'start (or reuse) the local Temporal dev server with its Web UI', load: async () => (await import('./server-command')).serverCommand },
  worker: { summary: 'run workers for the given task queues', load: async () => (await import('./worker-command')).workerCommand },
  report: { summary: 'write the self-contained HTML report of a campaign', load: async () => (await import('./report-command')).reportCommand },
  experiment: { summary: 'run the paper\'s ablations: variants x seeds of a campaign, with a results table', load: async () => (await import('./experiment-command')).experimentCommand },
  doctor: { summary: 'check the tfjs backend, onnxruntime, the Temporal binaries and the artifact store', load: async () => (await import('./doctor-command')).doctorCommand },
  prompts: { summary: 'print prompts of the reference world as JSON lines (and their distribution)', load: async () => (await import('./world-commands')).promptsCommand },
  evaluate: { summary: 'score videos with the VBench-style evaluator of the reference world', load: async () => (await import('./world-commands')).evaluateCommand },
};

export const MAIN_HELP = `Usage: dual-ipo <command> [options]

Dual-IPO post-training campaigns for text-to-video models, run as durable Temporal workflows.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`dual-ipo <command> --help\` for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name ? 0 : 1;
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
