// The tfjs backend, chosen at run time: tfjs-node-gpu (CUDA), then tfjs-node (native CPU), then the
// WebAssembly backend that always installs. The node packages are optional dependencies, so they are
// imported through a variable specifier inside try/catch: their absence is normal, not an error.
import * as tf from '@tensorflow/tfjs';

export interface BackendChoice {
  /** tfjs backend name as registered: 'tensorflow' (node / node-gpu), 'wasm' or 'cpu'. */
  backend: string;
  /** The package that provided it. */
  package: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node' | '@tensorflow/tfjs-backend-wasm' | '@tensorflow/tfjs-backend-cpu';
  /** Why each earlier candidate was skipped. */
  skipped: { package: string; reason: string }[];
  /** wasm only: SIMD and threads as detected. */
  simd?: boolean;
  threads?: boolean;
}

const CANDIDATES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let chosen: Promise<BackendChoice> | undefined;

type Importer = (specifier: string) => Promise<unknown>;

// eslint-disable-next-line layers/imports -- an optional npm package that may be absent, not a repository module
const importPackage: Importer = (specifier) => import(specifier);

async function tryNode(pkg: string, load: Importer): Promise<string | undefined> {
  // The native packages bring their own copy of tfjs-core and register the 'tensorflow' backend on it;
  // when that copy is ours (npm dedupes 4.22), setBackend switches us over.
  await load(pkg);
  if (tf.findBackendFactory('tensorflow') && (await tf.setBackend('tensorflow'))) return 'tensorflow';
  throw new Error('loaded, but its backend did not register with this copy of @tensorflow/tfjs');
}

/**
 * Undoes what a native package that failed (tfjs-node-gpu without CUDA) registered, so the next one
 * (tfjs-node) registers the same 'tensorflow' kernels on a clean slate: otherwise tfjs warns
 * "The kernel '...' for backend 'tensorflow' is already registered" once per kernel, about 155 lines.
 */
function forgetBackend(name: string): void {
  for (const kernel of tf.getKernelsForBackend(name)) tf.unregisterKernel(kernel.kernelName, name);
  if (tf.findBackendFactory(name)) tf.removeBackend(name);
}

export async function choose(preferred?: string, load: Importer = importPackage): Promise<BackendChoice> {
  const skipped: BackendChoice['skipped'] = [];
  const order = preferred ? CANDIDATES.filter((c) => c.endsWith(preferred)) : CANDIDATES;
  if (preferred !== 'wasm' && preferred !== 'cpu') {
    for (const pkg of order) {
      try {
        const backend = await tryNode(pkg, load);
        if (backend) return { backend, package: pkg, skipped };
      } catch (err) {
        skipped.push({ package: pkg, reason: firstLine((err as Error).message) });
        forgetBackend('tensorflow');
      }
    }
  }
  if (preferred !== 'cpu') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
        const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
        return { backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', skipped, simd, threads };
      }
      skipped.push({ package: '@tensorflow/tfjs-backend-wasm', reason: 'setBackend("wasm") returned false' });
    } catch (err) {
      skipped.push({ package: '@tensorflow/tfjs-backend-wasm', reason: firstLine((err as Error).message) });
    }
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', skipped };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

/**
 * Selects the backend once per process (DUAL_IPO_TFJS_BACKEND = node-gpu | node | wasm | cpu forces
 * one) and logs the choice on first use. Every model entry point awaits this before touching tfjs.
 */
export function initTf(log: (line: string) => void = (l) => console.error(l)): Promise<BackendChoice> {
  if (!chosen) {
    const forced = process.env.DUAL_IPO_TFJS_BACKEND;
    chosen = choose(forced).then((c) => {
      const skipped = c.skipped.map((s) => `${s.package}: ${s.reason}`).join('; ');
      log(`dual-ipo models: tfjs backend "${c.backend}" from ${c.package}${c.simd !== undefined ? ` (simd ${c.simd}, threads ${c.threads})` : ''}${skipped ? ` [skipped ${skipped}]` : ''}`);
      tf.env().set('PROD', true);
      return c;
    });
  }
  return chosen;
}

/** Human-readable summary of the choice, for `dual-ipo doctor` and logs. */
export function describeBackend(c: BackendChoice): string {
  return `${c.backend} (${c.package})${c.simd !== undefined ? `, simd ${c.simd ? 'yes' : 'no'}, threads ${c.threads ? 'yes' : 'no'}` : ''}`;
}
