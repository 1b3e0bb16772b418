// The deploy kit against the code it deploys: what the manifests and images say must be what the
// worker does (queues and GPUs, drain and grace period, environment variables, user, code version).
// Images are not built and manifests not applied here (no Docker daemon, no cluster): see
// deploy/README.md. Schema validation and Dockerfile lint are in tools.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseQueues } from '../../workers/worker';
import { DRAIN_SECONDS, EXIT_MARGIN_SECONDS, jobGraceSeconds, parseDrainSeconds, terminationGraceSeconds } from '../../workers/drain';
import { WORKER_HELP } from '../../lib/cli/worker-command';
import { codeVersion } from '../../lib/artifacts/manifest';
import { REPO_ROOT } from '../helpers/deploy-tools';
import { METRICS_ADDRESS_ENV, parseMetricsAddress } from '../../workers/telemetry';

const DEPLOY = join(REPO_ROOT, 'deploy');
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const packageVersion = (JSON.parse(read('package.json')) as { version: string }).version;
/** The orchestration queue's default (config temporal.taskQueue, worker --orchestration-queue). */
const ORCHESTRATION_QUEUE = 'dual-ipo';
const GPU_QUEUE = 'gpu';
const GPU = 'nvidia.com/gpu';

// A loose view of the Kubernetes objects: the schemas themselves are kubernetes-validate's job.
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: Array<{ name: string; emptyDir?: { medium?: string }; secret?: { secretName: string } }>;
}
interface K8sObject {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { template?: { metadata: { labels: Record<string, string> }; spec: PodSpec }; selector?: { matchLabels: Record<string, string> } };
}

const manifestFiles = readdirSync(join(DEPLOY, 'k8s')).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(DEPLOY, 'k8s', name));
const objects: K8sObject[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], file);
    return doc.toJSON() as K8sObject;
  }),
);
const deployments = objects.filter((o) => o.kind === 'Deployment');
const workerOf = (d: K8sObject) => d.spec!.template!.spec.containers.find((c) => c.name === 'worker')!;

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}
/** Seconds as the worker's --drain-seconds takes them. */
const seconds = (value: string) => parseDrainSeconds(value);
const count = (value: string | number | undefined) => (value === undefined ? 0 : Number(value));

/** Every Dockerfile instruction with its arguments, continuation lines joined. */
function instructions(path: string): Array<{ op: string; args: string }> {
  return read(path)
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}
const DOCKERFILES = { cpu: 'deploy/worker-cpu.Dockerfile', gpu: 'deploy/worker-gpu.Dockerfile' } as const;

describe('Kubernetes manifests vs the worker', () => {
  test('a CPU and a GPU worker Deployment, and some worker serves the orchestration queue', () => {
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['dual-ipo-worker-cpu', 'dual-ipo-worker-gpu']);
    const served = deployments.flatMap((d) => parseQueues(argValue(workerOf(d).args ?? [], '--queues') ?? '').map((q) => q.name));
    assert.ok(served.includes(ORCHESTRATION_QUEUE), served.join());
  });

  for (const d of deployments) {
    const name = d.metadata.name;
    const pod = d.spec!.template!.spec;
    const worker = workerOf(d);
    const args = worker.args ?? [];

    test(`${name}: every flag in args is one \`dual-ipo worker\` takes`, () => {
      const flags = args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
      assert.ok(flags.includes('--queues'), args.join(' '));
      for (const flag of flags) assert.match(WORKER_HELP, new RegExp(`^\\s+${flag}\\b`, 'm'), `${flag} is not in the worker's help`);
    });

    test(`${name}: GPU slots in --queues equal the ${GPU} requested`, () => {
      const queues = parseQueues(argValue(args, '--queues')!);
      const slots = queues.filter((q) => q.name === GPU_QUEUE).reduce((sum, q) => sum + q.concurrency, 0);
      const limit = count(worker.resources?.limits?.[GPU]);
      const request = worker.resources?.requests?.[GPU];
      assert.equal(slots, limit, `--queues ${argValue(args, '--queues')} vs limits.${GPU}: ${limit}`);
      if (request !== undefined) assert.equal(count(request), limit, `requests.${GPU} must equal limits.${GPU}`);
    });

    test(`${name}: terminationGracePeriodSeconds = the worker's drain + exit margin`, () => {
      const drain = argValue(args, '--drain-seconds');
      const drainSeconds = drain === undefined ? DRAIN_SECONDS : seconds(drain);
      assert.equal(pod.terminationGracePeriodSeconds, terminationGraceSeconds(drainSeconds));
      // Kubernetes' SIGKILL comes after the jobs' grace, the worker's own margin and the exit margin.
      assert.ok(pod.terminationGracePeriodSeconds! >= jobGraceSeconds(drainSeconds) + EXIT_MARGIN_SECONDS);
      // A GPU pod runs training jobs: minutes to write a last checkpoint of a large model.
      if (count(worker.resources?.limits?.[GPU]) > 0) assert.ok(drainSeconds >= 300, `${name}: --drain-seconds ${drainSeconds} is too short for a training checkpoint`);
    });

    test(`${name}: image tagged with the package version, CPU and GPU images apart`, () => {
      const [repository, tag] = worker.image.split(/:(?=[^/:]+$)/);
      assert.equal(tag, packageVersion, `${worker.image}: tag it with package.json's version`);
      assert.equal(repository!.endsWith('-gpu'), count(worker.resources?.limits?.[GPU]) > 0, `${worker.image} on a ${count(worker.resources?.limits?.[GPU]) ? 'GPU' : 'CPU'} pod`);
    });

    test(`${name}: non-root as the image's user, read-only root, no capabilities, writable scratch`, () => {
      const dockerfile = read(count(worker.resources?.limits?.[GPU]) ? DOCKERFILES.gpu : DOCKERFILES.cpu);
      const uid = Number(/^USER (\d+)/m.exec(dockerfile)?.[1]);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext?.runAsUser, uid);
      assert.equal(worker.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(worker.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(worker.securityContext?.capabilities?.drop, ['ALL']);
      const dataDir = /DUAL_IPO_DATA_DIR=(\S+)/.exec(dockerfile)?.[1];
      const volume = (path: string) => {
        const mount = worker.volumeMounts?.find((m) => m.mountPath === path);
        return mount && !mount.readOnly ? pod.volumes?.find((v) => v.name === mount.name) : undefined;
      };
      for (const path of ['/tmp', dataDir!]) assert.ok(volume(path)?.emptyDir, `${path} must be a writable emptyDir`);
      assert.equal(volume('/dev/shm')?.emptyDir?.medium, 'Memory');
    });

    test(`${name}: exec probes run deploy/probe.mjs, which matches the image's entrypoint`, () => {
      assert.deepEqual(worker.readinessProbe?.exec?.command, ['node', 'deploy/probe.mjs', 'ready']);
      assert.deepEqual(worker.livenessProbe?.exec?.command, ['node', 'deploy/probe.mjs', 'live']);
      const probe = read('deploy/probe.mjs');
      const match = /match: \{ type: 'string', default: '([^']+)' \}/.exec(probe)?.[1];
      for (const path of Object.values(DOCKERFILES)) {
        assert.match(read(path), new RegExp(`^ENTRYPOINT \\[.*"${match}", "worker"\\]`, 'm'), `${path}: probe looks for ${match} worker`);
      }
    });

    test(`${name}: runs as a ServiceAccount defined here, covered by exactly one PodDisruptionBudget`, () => {
      const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
      assert.ok(accounts.includes(pod.serviceAccountName!), `${pod.serviceAccountName} not in ${accounts.join()}`);
      const labels = d.spec!.template!.metadata.labels;
      const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget' && Object.entries(o.spec!.selector!.matchLabels).every(([k, v]) => labels[k] === v));
      assert.equal(budgets.length, 1, budgets.map((b) => b.metadata.name).join());
    });
  }

  test('the worker drains for --drain-seconds, default DRAIN_SECONDS, the constant the manifests are checked against', () => {
    const source = read('workers/worker.ts');
    assert.match(source, /from '\.\/drain'/, 'workers/worker.ts does not import workers/drain.ts');
    assert.match(source, /const drainSeconds = options\.drainSeconds \?\? DRAIN_SECONDS;/, 'the drain defaults to DRAIN_SECONDS');
    assert.match(source, /shutdownGraceTime:\s*`\$\{drainSeconds\}s`/, 'workers/worker.ts shutdownGraceTime is not the drain');
    assert.match(read('lib/cli/worker-command.ts'), /drainSeconds = parseDrainSeconds\(values\['drain-seconds'\]\)/, 'the worker takes --drain-seconds');
  });

  test('every environment variable the manifests name (commented examples too) is read by the code', () => {
    const names = new Set<string>();
    for (const file of manifestFiles) for (const m of readFileSync(file, 'utf8').matchAll(/name:\s*([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1]!);
    assert.ok(names.has('TEMPORAL_ADDRESS') && names.has('TEMPORAL_API_KEY'), [...names].join());
    const code = ['lib', 'activities', 'workflows', 'workers', 'config', 'bin'].flatMap((dir) => sources(join(REPO_ROOT, dir))).map((f) => readFileSync(f, 'utf8')).join('\n');
    // The AWS SDK's environment credential provider reads the static keys, not our code.
    const awsEnvProvider = sources(join(REPO_ROOT, 'node_modules', '@aws-sdk', 'credential-provider-env', 'dist-cjs')).map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const name of names) {
      const readBy = (text: string) => new RegExp(`env\\.${name}\\b|['"\`]${name}['"\`]`).test(text);
      assert.ok(readBy(code) || (name.startsWith('AWS_') && readBy(awsEnvProvider)), `${name} is set in deploy/k8s but nothing reads it`);
    }
  });

  test('the metrics endpoint: the worker binds all interfaces on the port the pod exposes and Prometheus is told to scrape', () => {
    for (const d of deployments) {
      const worker = workerOf(d) as Container & { ports?: Array<{ name?: string; containerPort: number }> };
      const address = worker.env?.find((e) => e.name === METRICS_ADDRESS_ENV)?.value;
      assert.ok(address, `${d.metadata.name}: no ${METRICS_ADDRESS_ENV}`);
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(parseMetricsAddress(address).split(':').pop())];
      assert.equal(host, '0.0.0.0', `${d.metadata.name}: a loopback endpoint cannot be scraped from outside the pod`);
      assert.equal(worker.ports?.find((p) => p.name === 'metrics')?.containerPort, port, d.metadata.name);
      const annotations = (d.spec!.template!.metadata as { annotations?: Record<string, string> }).annotations ?? {};
      assert.deepEqual([annotations['prometheus.io/scrape'], annotations['prometheus.io/port'], annotations['prometheus.io/path']], ['true', String(port), '/metrics'], d.metadata.name);
    }
  });

  test('secrets are referenced by name only: no Secret objects, no credentials in the manifests', () => {
    assert.deepEqual(objects.filter((o) => o.kind === 'Secret'), []);
    for (const d of deployments) for (const { name, value } of workerOf(d).env ?? []) assert.ok(!/KEY$|SECRET|PASSWORD|TOKEN/.test(name) || value === undefined || value.startsWith('/'), name);
  });

  test('the ServiceAccount carries an example cloud role for the artifact bucket (EKS IRSA)', () => {
    const account = objects.find((o) => o.kind === 'ServiceAccount')!;
    assert.match(account.metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? '', /^arn:aws:iam::\d{12}:role\/.+/);
  });
});

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe('worker images vs the code', () => {
  for (const [kind, path] of Object.entries(DOCKERFILES)) {
    const steps = instructions(path);
    const last = (op: string) => steps.filter((s) => s.op === op).at(-1)?.args ?? '';
    const stages = steps.filter((s) => s.op === 'FROM').map((s) => s.args);

    test(`${path}: base images (${kind === 'gpu' ? 'CUDA 12 runtime + Node 22' : 'node:22 slim'})`, () => {
      const final = stages.at(-1)!;
      if (kind === 'gpu') {
        assert.match(final, /^nvidia\/cuda:12\.\d+\.\d+-(cudnn-)?runtime-ubuntu\d+\.\d+$/);
        assert.ok(stages.some((s) => /^node:22-[a-z]+-slim\b/.test(s)), stages.join());
        assert.match(read(path), /^COPY --from=node \/usr\/local\/bin\/node /m);
      } else {
        assert.match(final, /^node:22-[a-z]+-slim$/);
      }
    });

    test(`${path}: CODE_VERSION build argument becomes DUAL_IPO_CODE_VERSION and is required`, () => {
      const finalStage = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
      assert.ok(finalStage.some((s) => s.op === 'ARG' && s.args === 'CODE_VERSION'), 'ARG CODE_VERSION in the final stage');
      assert.ok(finalStage.some((s) => s.op === 'ENV' && /\bDUAL_IPO_CODE_VERSION=\$\{CODE_VERSION\}/.test(s.args)));
      assert.ok(finalStage.some((s) => s.op === 'RUN' && /-z "\$\{CODE_VERSION\}".*exit 1/.test(s.args)), 'the build must fail without CODE_VERSION');
    });

    test(`${path}: a fixed non-root uid, tini as PID 1, the worker as entrypoint`, () => {
      assert.match(last('USER'), /^[1-9]\d*:[1-9]\d*$/);
      assert.match(last('ENTRYPOINT'), /^\["\/usr\/bin\/tini", "--", "node", "bin\/dual-ipo\.mjs", "worker"\]$/);
      assert.match(read(path), /apt-get install [^\n]*\btini\b/);
      assert.ok(existsSync(join(REPO_ROOT, 'bin', 'dual-ipo.mjs')));
    });
  }

  test('the GPU image has the Python job venv first on PATH and installs python/ only when present', () => {
    const source = read(DOCKERFILES.gpu);
    assert.match(source, /python3 -m venv \/opt\/job-venv/);
    assert.match(source, /PATH=\/opt\/job-venv\/bin:\$\{PATH\}/);
    assert.match(source, /if \[ -f \/src\/python\/pyproject\.toml \]/);
  });

  test('DUAL_IPO_CODE_VERSION is the code version every round manifest records', () => {
    const saved = process.env.DUAL_IPO_CODE_VERSION;
    try {
      process.env.DUAL_IPO_CODE_VERSION = '9.9.9+abc1234';
      assert.equal(codeVersion(), '9.9.9+abc1234');
      process.env.DUAL_IPO_CODE_VERSION = '  ';
      assert.match(codeVersion(), new RegExp(`^${packageVersion.replace(/\./g, '\\.')}`));
    } finally {
      if (saved === undefined) delete process.env.DUAL_IPO_CODE_VERSION;
      else process.env.DUAL_IPO_CODE_VERSION = saved;
    }
  });

  test('.dockerignore keeps local state and installed packages out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', '.tools', '.data']) assert.ok(ignored.includes(entry), entry);
  });
});

describe('the Temporal service: Helm values and compose file', () => {
  interface Service { image: string; depends_on?: Record<string, { condition: string }>; environment?: Record<string, string>; volumes?: string[]; ports?: string[] }
  const compose = parseYaml(read('deploy/temporal/docker-compose.yaml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const values = parseYaml(read('deploy/temporal/values.yaml')) as {
    server: { image: { tag: string }; config: { persistence: { defaultStore: string; visibilityStore: string; datastores: Record<string, { sql?: Record<string, string> }> }; namespaces: { create: boolean; namespace: Array<{ name: string }> } } };
    admintools: { image: { tag: string } };
    web: { image: { tag: string } };
  };
  const workerNamespace = workerOf(deployments[0]!).env!.find((e) => e.name === 'TEMPORAL_NAMESPACE')!.value!;

  test('compose: every image pinned, every dependency and named volume defined', () => {
    const names = Object.keys(compose.services);
    assert.ok(names.includes('postgresql') && names.includes('temporal'), names.join());
    for (const [name, service] of Object.entries(compose.services)) {
      assert.match(service.image, /^[a-z0-9./-]+:\d[\w.-]*$/, `${name}: pin the image tag`);
      for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(names.includes(dep), `${name} depends on unknown ${dep}`);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) assert.ok(compose.volumes && source in compose.volumes, `${name}: volume ${source} not declared`);
      }
    }
  });

  test('compose: PostgreSQL persistence, the password from the environment, never committed', () => {
    const server = compose.services.temporal!;
    assert.equal(server.environment?.DB, 'postgres12');
    assert.equal(server.environment?.POSTGRES_SEEDS, 'postgresql');
    assert.match(compose.services.postgresql!.image, /^postgres:1[2-9]\b|^postgres:[2-9]\d\b/);
    for (const service of Object.values(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|PWD/.test(key)) assert.match(value, /^\$\{POSTGRES_PASSWORD:\?/, key);
      }
    }
    assert.equal(server.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  });

  test('Helm values: PostgreSQL for both stores, the password from a secret, the workers\' namespace', () => {
    const { persistence, namespaces } = values.server.config;
    for (const store of [persistence.defaultStore, persistence.visibilityStore]) {
      const sql = persistence.datastores[store]?.sql;
      assert.equal(sql?.pluginName, 'postgres12', store);
      assert.ok(sql?.existingSecret && !('password' in sql), `${store}: password from existingSecret only`);
    }
    assert.equal(namespaces.create, true);
    assert.deepEqual(namespaces.namespace.map((n) => n.name), [workerNamespace]);
    assert.match(read('deploy/temporal/docker-compose.yaml'), new RegExp(`namespace create -n ${workerNamespace}\\b`));
  });

  test('one Temporal version: compose images = Helm values images', () => {
    const tag = (image: string) => image.split(':')[1];
    assert.equal(tag(compose.services.temporal!.image), values.server.image.tag);
    for (const service of Object.values(compose.services).filter((s) => s.image.startsWith('temporalio/admin-tools:'))) assert.equal(tag(service.image), values.admintools.image.tag);
    assert.equal(tag(compose.services['temporal-ui']!.image), values.web.image.tag);
  });
});

test('the deploy files named in the manifests and images exist', () => {
  for (const path of ['deploy/probe.mjs', 'deploy/README.md', ...Object.values(DOCKERFILES)]) assert.ok(existsSync(join(REPO_ROOT, path)), path);
  assert.ok(manifestFiles.length > 0, relative(REPO_ROOT, join(DEPLOY, 'k8s')));
});
