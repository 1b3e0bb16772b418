#!/usr/bin/env node
// A command-backend job that runs its work as a Kubernetes Job (one per job key, named
// DUAL_IPO_JOB_NAME). Idempotent: it asks for the Job by name first and follows a running or
// finished one instead of creating it again, so a retry after a worker crash re-attaches; a failed
// one is deleted and created anew (the retry wants the work done). The pod mounts the volume that
// holds the worker's --jobs-dir at the same path, so it reads the request and writes the channel,
// outputs and result where the worker looks. For a PyTorchJob (Kubeflow), create that kind instead
// and read its status conditions the same way.
//
//   stages:
//     generatorTrain:
//       backend: command
//       command: [node, examples/launchers/kubernetes-job.mjs]
//       params:
//         launcher:
//           namespace: dual-ipo
//           image: registry.example.com/trainer:1.4
//           command: [python, -m, trainers.diffusion_dpo]
//           gpus: 8
//           volumeClaim: dual-ipo-jobs      # ReadWriteMany, mounted at mountPath
//           mountPath: /data
import { cli, context, follow, log, onStop, settled } from './common.mjs';

const { launcher, name, key, remoteEnv } = context();
const ns = ['-n', launcher.namespace ?? 'default'];

onStop(() => cli('kubectl', ['delete', 'job', name, ...ns, '--wait=false']));

/** The Job, undefined when there is none, or { interrupted } (see common.mjs cli). */
function getJob() {
  const r = cli('kubectl', ['get', 'job', name, ...ns, '-o', 'json']);
  if (r.interrupted) return { interrupted: true };
  if (r.code !== 0) {
    if (/NotFound/.test(r.stderr)) return undefined;
    console.error(`kubectl get job ${name} failed: ${r.stderr}`);
    process.exit(r.code);
  }
  return JSON.parse(r.stdout);
}

const condition = (job, type) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** The exit code of the Job's (last) pod, as the trainer returned it. */
function podExitCode() {
  const r = cli('kubectl', ['get', 'pods', ...ns, '-l', `job-name=${name}`, '-o', 'json']);
  const pods = r.code === 0 ? JSON.parse(r.stdout).items : [];
  const code = pods.at(-1)?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
  return typeof code === 'number' ? code : 1;
}

function create() {
  const manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'app.kubernetes.io/name': 'dual-ipo-job' }, annotations: { 'dual-ipo/job-key': key } },
    spec: {
      backoffLimit: 0, // retries belong to the stage (maxAttempts), which resumes from the checkpoint
      ttlSecondsAfterFinished: 86400, // long enough for a retry to find the finished Job
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'job',
              image: launcher.image,
              command: launcher.command,
              env: Object.entries(remoteEnv).map(([k, v]) => ({ name: k, value: v })),
              ...(launcher.gpus ? { resources: { limits: { 'nvidia.com/gpu': launcher.gpus } } } : {}),
              ...(launcher.volumeClaim ? { volumeMounts: [{ name: 'jobs', mountPath: launcher.mountPath ?? '/data' }] } : {}),
            },
          ],
          ...(launcher.volumeClaim ? { volumes: [{ name: 'jobs', persistentVolumeClaim: { claimName: launcher.volumeClaim } }] } : {}),
        },
      },
    },
  };
  const r = cli('kubectl', ['create', ...ns, '-f', '-'], JSON.stringify(manifest));
  if (r.interrupted) return; // the worker's SIGTERM: our handler runs next (and cancels by name)
  // Another launcher of the same key won the race: follow that one.
  if (r.code !== 0 && !/AlreadyExists/.test(r.stderr)) {
    console.error(`kubectl create failed (${r.code}): ${r.stderr}`);
    process.exit(r.code || 1);
  }
  log(`created Job ${name}`);
}

const found = await settled(getJob);
if (found && condition(found, 'Failed')) {
  log(`Job ${name} failed before: deleting it and creating it again`);
  cli('kubectl', ['delete', 'job', name, ...ns, '--wait=true']);
  create();
} else if (found) {
  log(`re-attached to Job ${name}`);
} else {
  create();
}

await follow({
  state: () => {
    const job = getJob();
    if (job?.interrupted) return job;
    if (!job) return { state: 'pending' };
    if (condition(job, 'Complete')) return { state: 'done', exitCode: 0 };
    if (condition(job, 'Failed')) return { state: 'done', exitCode: podExitCode() };
    return { state: job.status?.active ? 'running' : 'pending' };
  },
  intervalMs: Number(launcher.pollMs ?? 5000),
});
