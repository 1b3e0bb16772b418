// The layering of the code (docs/architecture.md, "Layout"): each folder and what it may import from
// the repository. Imports point downward only. Enforced by the `layers/imports` lint rule below
// (eslint.config.mjs) and checked against the table in docs/architecture.md by a test.
import { dirname, relative, resolve, sep } from 'node:path';

export const ROOT = dirname(dirname(new URL(import.meta.url).pathname));

/** folder -> folders it may import (values); `type:` prefix: type-only imports. */
export const LAYERS = {
  'lib/core': [],
  'lib/paths.ts': [],
  'lib/free-port.ts': [],
  'lib/code-version.ts': [],
  'lib/artifacts': ['lib/code-version.ts'],
  'lib/world': ['lib/core'],
  'lib/models': ['lib/core', 'lib/world', 'lib/artifacts'],
  'lib/stages': ['lib/core', 'lib/world', 'lib/artifacts', 'lib/models', 'lib/paths.ts'],
  config: ['lib/stages', 'lib/artifacts'],
  workflows: ['lib/core', 'config', 'type:lib/stages', 'type:lib/artifacts', 'type:activities'],
  activities: ['lib/stages', 'lib/artifacts'],
  workers: ['activities'],
  'lib/temporal': ['lib/paths.ts', 'lib/free-port.ts', 'workflows'],
  'lib/report': ['lib/artifacts', 'lib/core'],
  'lib/campaign': ['config', 'workflows', 'workers', 'lib/temporal', 'lib/stages', 'lib/paths.ts'],
  'lib/experiment': ['lib/campaign', 'lib/report', 'lib/stages', 'lib/models', 'lib/world', 'lib/artifacts', 'lib/core', 'config', 'type:workflows'],
  'lib/cli': ['*'],
  'lib/index.ts': ['lib/core'],
};

/** The layer a repository path belongs to (the longest matching folder), or undefined (tests, bench, scripts: free). */
export function layerOf(path) {
  const rel = relative(ROOT, path).split(sep).join('/');
  let best;
  for (const layer of Object.keys(LAYERS)) {
    if ((rel === layer || rel.startsWith(`${layer}/`)) && (!best || layer.length > best.length)) best = layer;
  }
  return best;
}

/** Why importing `specifier` from `file` breaks the layering, or undefined when it does not. */
export function layerViolation(file, specifier, typeOnly) {
  if (!specifier.startsWith('.')) return undefined;
  const from = layerOf(file);
  if (!from) return undefined;
  let target = resolve(dirname(file), specifier);
  const to = layerOf(target) ?? layerOf(`${target}.ts`);
  if (!to || to === from) return undefined;
  const allowed = LAYERS[from];
  if (allowed.includes('*') || allowed.includes(to) || (typeOnly && allowed.includes(`type:${to}`))) return undefined;
  return `${from} may not import ${to}${allowed.includes(`type:${to}`) ? ' (types only)' : ''}: imports point downward only (docs/architecture.md, "Layout")`;
}

/** ESLint plugin: static, downward imports only. */
export const layersPlugin = {
  rules: {
    imports: {
      meta: { type: 'problem', schema: [] },
      create(context) {
        const file = context.filename;
        const check = (node, source, typeOnly) => {
          const problem = layerViolation(file, source, typeOnly);
          if (problem) context.report({ node, message: problem });
        };
        const fromDeclaration = (node) => {
          if (!node.source) return;
          const typeOnly = node.importKind === 'type' || node.exportKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
          check(node, node.source.value, typeOnly);
        };
        return {
          ImportDeclaration: fromDeclaration,
          ExportNamedDeclaration: fromDeclaration,
          ExportAllDeclaration: fromDeclaration,
          ImportExpression(node) {
            if (node.source.type === 'Literal' && typeof node.source.value === 'string') check(node, node.source.value, false);
            else if (layerOf(file)) context.report({ node, message: 'import() with a computed specifier hides the dependency from tsc and this rule: import statically' });
          },
        };
      },
    },
  },
};
