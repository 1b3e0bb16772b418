#!/usr/bin/env node
// A command-backend job that runs multi-node training on Slurm: one sbatch job per job key, each
// node running `params.launcher.command` under srun, e.g. torchrun with a c10d rendezvous on the
// first node. Idempotent: it looks the job up by name (DUAL_IPO_JOB_NAME) first and follows a
// pending, running or finished one instead of submitting again, so a retry after a worker crash
// re-attaches. A failed or cancelled one is submitted anew (the retry wants the work done).
//
//   stages:
//     generatorTrain:
//       backend: command
//       command: [node, examples/launchers/slurm-torchrun.mjs]
//       params:
//         launcher:
//           nodes: 4
//           gpusPerNode: 8
//           partition: gpu
//           time: "2-00:00:00"
//           command: [torchrun, --nnodes, "$SLURM_NNODES", --nproc-per-node, "8", --rdzv-backend, c10d,
//                     --rdzv-endpoint, "$HEAD_NODE:29500", --rdzv-id, "$SLURM_JOB_ID", -m, trainers.diffusion_dpo]
//
// Only rank 0 of the trainer writes the channel, the outputs and the result file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, context, follow, log, onStop, settled } from './common.mjs';

const { launcher, name, jobDir, remoteEnv } = context();

onStop(() => cli('scancel', ['--name', name]));

/** The job of this name Slurm knows: queued/running (squeue) or finished (sacct), or { interrupted } (see common.mjs cli). */
function lookup() {
  const queued = cli('squeue', ['--name', name, '--noheader', '--format', '%i|%T']);
  if (queued.interrupted) return { interrupted: true };
  const live = queued.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
  if (live.length > 0) return { id: live[0][0], state: live[0][1] };
  const done = cli('sacct', ['--name', name, '-X', '--noheader', '--parsable2', '--format', 'JobID,State,ExitCode']);
  if (done.interrupted) return { interrupted: true };
  const rows = done.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
  if (rows.length === 0) return undefined;
  const [id, state, exit] = rows.at(-1);
  return { id, state, exitCode: Number(exit.split(':')[0]) };
}

const quote = (s) => (s.startsWith('$') ? `"${s}"` : `'${s.replace(/'/g, `'\\''`)}'`);

function submit() {
  const script = join(jobDir, 'sbatch.sh');
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --nodes=${launcher.nodes ?? 1}`,
    `#SBATCH --ntasks-per-node=1`,
    ...(launcher.gpusPerNode ? [`#SBATCH --gpus-per-node=${launcher.gpusPerNode}`] : []),
    ...(launcher.partition ? [`#SBATCH --partition=${launcher.partition}`] : []),
    ...(launcher.time ? [`#SBATCH --time=${launcher.time}`] : []),
    `#SBATCH --output=${join(jobDir, 'slurm-%j.log')}`,
    // SIGTERM 120 s before the time limit: the trainer saves a last checkpoint and exits 75.
    '#SBATCH --signal=TERM@120',
    ...Object.entries(remoteEnv).map(([k, v]) => `export ${k}=${quote(v)}`),
    'export HEAD_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n1)',
    `exec srun ${launcher.command.map(quote).join(' ')}`,
    '',
  ];
  writeFileSync(script, lines.join('\n'), { mode: 0o755 });
  const r = cli('sbatch', ['--parsable', script]);
  if (r.interrupted) return; // the worker's SIGTERM: our handler runs next (and cancels by name)
  if (r.code !== 0) {
    console.error(`sbatch failed (${r.code}): ${r.stderr}`);
    process.exit(r.code || 1);
  }
  log(`submitted Slurm job ${r.stdout.trim()} as ${name}`);
}

const found = await settled(lookup);
if (!found || ['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE'].includes(found.state.split(' ')[0])) {
  if (found) log(`Slurm job ${found.id} (${name}) ended ${found.state}: submitting again`);
  submit();
} else {
  log(`re-attached to Slurm job ${found.id} (${name}), ${found.state}`);
}

await follow({
  state: () => {
    const now = lookup();
    if (now?.interrupted) return now;
    if (!now) return { state: 'pending' };
    if (['PENDING', 'CONFIGURING'].includes(now.state)) return { state: 'pending' };
    if (['RUNNING', 'COMPLETING'].includes(now.state)) return { state: 'running' };
    return { state: 'done', exitCode: now.state === 'COMPLETED' ? 0 : now.exitCode || 1 };
  },
  intervalMs: Number(launcher.pollMs ?? 5000),
});
