// A job's environment is an allowlist, not the worker's whole environment: the worker holds the
// cluster's credentials (TEMPORAL_API_KEY, AWS_*, TLS keys), which a training script has no use for
// and a third-party one should never see. Stages widen it with `stages.<stage>.env`.

export interface JobEnvConfig {
  /** Names or `PREFIX*` patterns of the worker's variables to pass on, beside the defaults. */
  allow?: string[];
  /** Values set for the job (they travel in the config, so never secrets: allow those by name). */
  set?: Record<string, string>;
}

/** Passed on from the worker by default: the basics, Python, CUDA and NCCL, common ML caches. */
export const DEFAULT_ALLOW = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'TMPDIR', 'TERM',
  'PYTHON*', 'VIRTUAL_ENV', 'CONDA_*', 'LD_LIBRARY_PATH', 'CUDA_*', 'NCCL_*', 'NVIDIA_*', 'CUBLAS_*', 'CUDNN_*',
  'TORCH_*', 'PYTORCH_*', 'HF_HOME', 'HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'TRANSFORMERS_OFFLINE', 'TRANSFORMERS_CACHE',
  'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'TOKENIZERS_PARALLELISM',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY',
];

/**
 * Never passed on through a pattern, only when named exactly in `allow`: credentials of the worker
 * (Temporal, the artifact store) and anything that looks like a secret.
 */
export const SECRET_PATTERNS = ['TEMPORAL_*', 'AWS_*', '*TOKEN*', '*SECRET*', '*PASSWORD*', '*API_KEY*', '*_KEY', '*CREDENTIAL*', 'DUAL_IPO_*'];

function matcher(pattern: string): (name: string) => boolean {
  const starts = pattern.startsWith('*');
  const ends = pattern.endsWith('*') && pattern.length > 1;
  const core = pattern.replace(/^\*|\*$/g, '');
  if (starts && ends) return (n) => n.includes(core);
  if (starts) return (n) => n.endsWith(core);
  if (ends) return (n) => n.startsWith(core);
  return (n) => n === pattern;
}

/**
 * The job's environment: the worker's variables the allowlist names (secrets only when named
 * exactly), then the stage's explicit values, then what the backend sets (`own`), which always win.
 */
export function jobEnvironment(worker: NodeJS.ProcessEnv, config: JobEnvConfig | undefined, own: Record<string, string>): Record<string, string> {
  const patterns = [...DEFAULT_ALLOW, ...(config?.allow ?? []).filter((p) => p.includes('*'))].map(matcher);
  const exact = new Set((config?.allow ?? []).filter((p) => !p.includes('*')));
  const secret = SECRET_PATTERNS.map(matcher);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(worker)) {
    if (value === undefined) continue;
    if (exact.has(name) || (patterns.some((m) => m(name)) && !secret.some((m) => m(name)))) env[name] = value;
  }
  return { ...env, ...(config?.set ?? {}), ...own };
}
