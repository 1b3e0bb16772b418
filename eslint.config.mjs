// Lint: typescript-eslint plus Temporal's rule that workflow code imports no Node built-ins
// (workflows run in a deterministic sandbox; see temporalio/samples-typescript .eslintrc).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import { layersPlugin } from './scripts/layers.mjs';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'reports/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The layering table of docs/architecture.md: imports point downward only, and statically.
    files: ['lib/**/*.ts', 'config/**/*.ts', 'workflows/**/*.ts', 'activities/**/*.ts', 'workers/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports': 'error' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // Node built-ins: never, not even as types. Non-deterministic modules: `import type` only
      // (types are erased, so nothing of them reaches the workflow bundle).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code runs in a deterministic sandbox: no Node built-ins' })),
          patterns: [
            {
              group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity', '**/activities/*', '**/lib/artifacts/*', '**/lib/models/*', '**/lib/world/*', '@tensorflow/*', 'onnxruntime-node', '@aws-sdk/*'],
              allowTypeImports: true,
              message: 'workflow code may import only types from activities, artifacts, models, the world and SDK parts outside @temporalio/workflow',
            },
          ],
        },
      ],
    },
  },
);
