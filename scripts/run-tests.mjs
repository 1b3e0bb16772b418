// Node 20's test runner takes no globs: collect the test files, then hand them to `node --test`.
// Usage: node scripts/run-tests.mjs [folder-or-file | python ...]   (default: test/ and python/tests)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? collect(join(path, e.name)) : e.name.endsWith('.test.ts') ? [join(path, e.name)] : []))
    .sort();
}

const args = process.argv.slice(2);
const roots = args.length ? args.filter((a) => a !== 'python') : ['test'];

// The Python job kit's tests (python/tests) run with the whole suite or with the argument `python`,
// in the venv that `DUAL_IPO_SETUP_PYTHON=1 npm run setup` creates (.tools/py-jobs, or DUAL_IPO_PY_JOBS).
let pythonStatus = 0;
if (!args.length || args.includes('python')) {
  const venv = process.env.DUAL_IPO_PY_JOBS ?? join(import.meta.dirname, '..', '.tools', 'py-jobs');
  const python = join(venv, 'bin', 'python');
  if (existsSync(python)) {
    console.log(`python tests: ${python} -m pytest python/tests`);
    pythonStatus = spawnSync(python, ['-m', 'pytest', '-q', 'tests'], { cwd: join(import.meta.dirname, '..', 'python'), stdio: 'inherit' }).status ?? 1;
  } else {
    console.log(`python tests: skipped (no Python job environment at ${venv}); enable them with: DUAL_IPO_SETUP_PYTHON=1 npm run setup`);
  }
  if (!roots.length) process.exit(pythonStatus);
}
const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(', ')}`);
  process.exit(1);
}
const reporter = process.env.TEST_REPORTER ?? 'spec';
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-reporter=${reporter}`, ...files], { stdio: 'inherit' });
process.exit(pythonStatus || (result.status ?? 1));
