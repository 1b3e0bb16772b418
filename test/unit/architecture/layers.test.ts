// The layering table of docs/architecture.md is the one the lint rule enforces, and the rule reports
// an upward import, a type-only exception used for a value, and a computed import() specifier.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { LAYERS, ROOT, layerOf, layerViolation, layersPlugin } from '../../../scripts/layers.mjs';

/** The "may import" column of the Layout table, as LAYERS spells it. */
function documentedLayers(): Record<string, string[]> {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Layout'), doc.indexOf('## Data types'));
  const layers: Record<string, string[]> = {};
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1]!.startsWith('`')) continue;
    const folders = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''));
    const may = cells[3]!;
    const [values, types = ''] = may.split('types only:');
    const names = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''));
    const allowed = may === 'everything' ? ['*'] : [...names(values!), ...names(types).map((n) => `type:${n}`)];
    for (const folder of folders) if (folder in LAYERS) layers[folder] = allowed;
  }
  return layers;
}

describe('layers', () => {
  test('docs/architecture.md lists every layer the lint rule enforces, with the same imports', () => {
    const documented = documentedLayers();
    assert.deepEqual(Object.keys(documented).sort(), Object.keys(LAYERS).sort());
    for (const [layer, allowed] of Object.entries(LAYERS)) assert.deepEqual([...documented[layer]!].sort(), [...allowed].sort(), `docs/architecture.md row ${layer}`);
  });

  test('every source file belongs to a layer', () => {
    const files = ['lib', 'config', 'workflows', 'activities', 'workers'].flatMap((dir) =>
      (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, dir, f)),
    );
    assert.ok(files.length > 100);
    const outside = files.filter((f) => !layerOf(f) && !/\/(config|workflows|activities|workers)\//.test(f.slice(ROOT.length)));
    assert.deepEqual(outside, [], 'add these to LAYERS (scripts/layers.mjs) and the table of docs/architecture.md');
  });

  test('an upward import is a violation, a downward one is not', () => {
    const file = (p: string) => join(ROOT, p);
    assert.match(layerViolation(file('lib/models/generator.ts'), '../stages/params', false) ?? '', /lib\/models may not import lib\/stages/);
    assert.match(layerViolation(file('lib/stages/runner.ts'), '../../activities', false) ?? '', /lib\/stages may not import activities/);
    assert.match(layerViolation(file('workflows/round.ts'), '../activities', false) ?? '', /types only/);
    assert.equal(layerViolation(file('workflows/round.ts'), '../activities', true), undefined);
    assert.equal(layerViolation(file('lib/stages/runner.ts'), '../artifacts', false), undefined);
    assert.equal(layerViolation(file('lib/stages/runner.ts'), './contract', false), undefined);
    assert.equal(layerViolation(file('test/unit/x.test.ts'), '../../activities', false), undefined, 'tests are free');
  });

  test('the lint rule reports violations in source text', async () => {
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as never }, plugins: { layers: layersPlugin as never }, rules: { 'layers/imports': 'error' } }],
    });
    const lint = async (path: string, text: string) => (await eslint.lintText(text, { filePath: join(ROOT, path) }))[0]!.messages.map((m) => m.message);
    assert.match((await lint('lib/models/x.ts', "import { readParams } from '../stages/params';\n")).join('\n'), /lib\/models may not import lib\/stages/);
    assert.match((await lint('lib/stages/x.ts', "const m = './builtin';\nawait import(m);\n")).join('\n'), /computed specifier/);
    assert.match((await lint('workflows/x.ts', "import { createActivities } from '../activities';\n")).join('\n'), /types only/);
    assert.deepEqual(await lint('workflows/x.ts', "import type { Activities } from '../activities';\n"), []);
    assert.deepEqual(await lint('lib/stages/x.ts', "import { openStore } from '../artifacts';\nexport { runStage } from './runner';\n"), []);
  });
});
