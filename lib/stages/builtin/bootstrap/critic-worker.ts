// Worker-thread entry of the bootstrap's critic branch (critic-branch.ts): its own tfjs and
// onnxruntime, the same artifact store, progress and the result posted back to the stage.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../../artifacts';
import { initTf } from '../../../models/backend';
import { criticBranch, type CriticBranchArgs } from './critic-branch';

const { store: location, args } = workerData as { store: { root: string; s3?: Record<string, unknown> }; args: CriticBranchArgs };
const controller = new AbortController();
parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'abort') controller.abort();
});

try {
  await initTf(() => {});
  const store = openStore(location.root, location.s3);
  const result = await criticBranch(store, args, (fraction, message) => parentPort!.postMessage({ type: 'progress', fraction, message }), { signal: controller.signal });
  parentPort!.postMessage({ type: 'done', result });
} catch (err) {
  const e = err as Error & { nonRetryable?: boolean };
  parentPort!.postMessage({ type: 'error', message: e.message, name: e.name, nonRetryable: e.nonRetryable });
}
