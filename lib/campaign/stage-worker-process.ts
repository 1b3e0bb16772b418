// Stage activities in a child process: training and sampling keep a CPU busy for seconds at a time,
// which would stall the workflow worker's event loop (workflow tasks time out, status queries fail)
// if both shared one process. `dual-ipo run` and `quickstart` keep the workflows here and run the
// stage queues as `dual-ipo worker --queues ...` beside them; its log goes to the data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../paths';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'dual-ipo.mjs');

export interface StageWorkerProcess {
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export function spawnStageWorker(queues: string[], orchestrationQueue: string, name: string, target: { address: string; namespace: string; embedded: boolean }): StageWorkerProcess {
  const dir = join(dataDir(), 'logs');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${name}.log`);
  const log = openSync(logFile, 'a');
  // The child connects to the server this process made sure of; it must not start another one.
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ...(target.embedded ? { TEMPORAL_TLS: 'false' } : {}) };
  // The workflows in the parent are unversioned: a versioned child would never get their activities.
  delete env.DUAL_IPO_WORKER_DEPLOYMENT;
  // A drain shorter than stop()'s 15 s before SIGKILL: jobs checkpoint and the worker exits by itself.
  const child = spawn(process.execPath, [BIN, 'worker', '--queues', queues.join(','), '--orchestration-queue', orchestrationQueue, '--drain-seconds', '10'], { stdio: ['ignore', log, log], env });
  closeSync(log);
  let exited = false;
  child.once('exit', (code, signal) => {
    exited = true;
    if (!stopping) process.stderr.write(`stage worker ${child.pid} exited (${signal ?? code}); see ${logFile}\n`);
  });
  let stopping = false;
  return {
    child,
    logFile,
    async stop() {
      stopping = true;
      if (exited) return;
      child.kill('SIGTERM');
      const done = new Promise((r) => child.once('exit', r));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}
