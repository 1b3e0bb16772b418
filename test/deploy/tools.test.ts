// The linters of the deploy kit, run the way CI runs them: hadolint on every Dockerfile, and
// kubernetes-validate --strict (unknown fields are errors) on every Kubernetes manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, requireDeployTool } from '../helpers/deploy-tools';

const DEPLOY = join(REPO_ROOT, 'deploy');
const dockerfiles = readdirSync(DEPLOY).filter((name) => name.endsWith('.Dockerfile')).map((name) => join(DEPLOY, name));
const manifests = readdirSync(join(DEPLOY, 'k8s')).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(DEPLOY, 'k8s', name));
// The oldest Kubernetes release still in extended support on the big clouds, and the newest schema
// kubernetes-validate ships: a field missing from either is an error.
const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];

const run = (command: string, args: string[]) => spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8' });

test('there are Dockerfiles and manifests to check', () => {
  assert.deepEqual(dockerfiles.map((path) => path.slice(DEPLOY.length + 1)).sort(), ['worker-cpu.Dockerfile', 'worker-gpu.Dockerfile']);
  assert.ok(manifests.length >= 4, manifests.join());
});

test('hadolint passes every Dockerfile with no finding', (t) => {
  const hadolint = requireDeployTool(t, 'hadolint');
  if (!hadolint) return;
  const result = run(hadolint, dockerfiles);
  assert.equal(result.status, 0, `hadolint:\n${result.stdout}${result.stderr}`);
});

test('hadolint does fail a Dockerfile with findings (the check can fail)', (t) => {
  const hadolint = requireDeployTool(t, 'hadolint');
  if (!hadolint) return;
  const dir = mkdtempSync(join(tmpdir(), 'hadolint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM ubuntu\nRUN apt-get install curl\n');
  const result = run(hadolint, [join(dir, 'Dockerfile')]);
  assert.notEqual(result.status, 0);
  assert.match(result.stdout, /DL3006/);
});

for (const version of KUBERNETES_VERSIONS) {
  test(`kubernetes-validate --strict accepts every manifest (Kubernetes ${version})`, (t) => {
    const validate = requireDeployTool(t, 'kubernetes-validate');
    if (!validate) return;
    const result = run(validate, ['--strict', '--kubernetes-version', version, ...manifests]);
    assert.equal(result.status, 0, `kubernetes-validate:\n${result.stdout}${result.stderr}`);
    const passed = result.stdout.split('\n').filter((line) => line.includes(' passed for resource '));
    assert.ok(passed.length >= 5, `expected every resource validated:\n${result.stdout}`);
  });
}

test('kubernetes-validate --strict rejects a misspelled field (the check can fail)', (t) => {
  const validate = requireDeployTool(t, 'kubernetes-validate');
  if (!validate) return;
  const dir = mkdtempSync(join(tmpdir(), 'kubernetes-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = readFileSync(join(DEPLOY, 'k8s', 'worker-cpu.yaml'), 'utf8');
  writeFileSync(join(dir, 'bad.yaml'), source.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:'));
  const result = run(validate, ['--strict', join(dir, 'bad.yaml')]);
  assert.notEqual(result.status, 0, result.stdout);
  assert.match(result.stdout + result.stderr, /terminationGracePeriodSecond/);
});
