// Reading annotators' labels back: every kind of bad row is refused with its line, nothing half-read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelStudioImport, labelsJsonl, LabelsError, pairsCsv, pairsJsonl, parseLabels, type ExportedPair } from '../../../../lib/stages/annotation/labels';

const pairs: ExportedPair[] = ['p1', 'p2', 'p3'].map((id) => ({ id, prompt: `a red cat, ${id}`, videoA: `videos/${id}-a.gif`, videoB: `videos/${id}-b.gif` }));
const ids = pairs.map((p) => p.id);
const row = (pair: string, s = 'A', m = 'B', f = 'tie') => JSON.stringify({ pair, semantic: s, motion: m, faithfulness: f });

function problems(text: string): string[] {
  try {
    parseLabels(text, ids, 'labels.jsonl');
  } catch (err) {
    assert.ok(err instanceof LabelsError, String(err));
    assert.match(err.message, /^labels\.jsonl: \d+ problems?, nothing ingested/);
    return err.problems;
  }
  assert.fail('the file was accepted');
}

describe('parseLabels', () => {
  test('JSON lines, in any order, come back in the export order; values are case-insensitive', () => {
    const rows = parseLabels([row('p3'), row('p1', 'b', 'TIE', 'a'), row('p2')].join('\n'), ids);
    assert.deepEqual(rows.map((r) => r.pair), ids);
    assert.deepEqual(rows[0]!.labels, { semantic: 'B', motion: 'tie', faithfulness: 'A' });
  });

  test('the export\'s own CSV and JSONL, filled in, are read back; so is the simulated panel\'s file', () => {
    const csv = pairsCsv(pairs).replace(/,,,\n/g, ',A,B,tie\n');
    assert.equal(parseLabels(csv, ids).length, 3);
    const jsonl = pairsJsonl(pairs).replace(/"semantic":"","motion":"","faithfulness":""/g, '"semantic":"A","motion":"A","faithfulness":"B"');
    assert.equal(parseLabels(jsonl, ids)[2]!.labels.faithfulness, 'B');
    const rows = parseLabels(jsonl, ids);
    assert.deepEqual(parseLabels(labelsJsonl(rows), ids), rows);
  });

  test('a Label Studio JSON export (the import\'s tasks, annotated) is read', () => {
    const { tasks, labelConfig } = labelStudioImport(pairs, (p) => `https://host/${p}`);
    assert.match(labelConfig, /<Choices name="motion"/);
    const annotated = (tasks as any[]).map((t, i) => ({ ...t, annotations: [{ completed_by: 7, result: ['semantic', 'motion', 'faithfulness'].map((d) => ({ from_name: d, value: { choices: [i ? 'A' : 'tie'] } })) }] }));
    const rows = parseLabels(JSON.stringify(annotated), ids);
    assert.equal(rows[0]!.labels.semantic, 'tie');
    assert.equal(rows[0]!.annotator, '7');
    assert.equal((tasks as any[])[0].data.videoA, 'https://host/videos/p1-a.gif');
  });

  test('unknown id', () => {
    assert.deepEqual(problems([row('p1'), row('p2'), row('p3'), row('zz')].join('\n')), ['line 4: unknown pair "zz" (not in this export)']);
  });

  test('duplicate', () => {
    assert.deepEqual(problems([row('p1'), row('p2'), row('p1', 'B'), row('p3')].join('\n')), ['line 3: pair "p1" is labelled twice (first on line 1)']);
  });

  test('missing pairs', () => {
    assert.deepEqual(problems(row('p2')), ['2 of 3 pairs have no label: "p1", "p3"']);
  });

  test('bad and missing values name the row and the field', () => {
    const text = [row('p1', 'C'), JSON.stringify({ pair: 'p2', semantic: 'A', motion: 'B' }), row('p3')].join('\n');
    assert.deepEqual(problems(text), ['line 1: pair "p1", "semantic" is "C", expected A, B or tie', 'line 2: pair "p2", "faithfulness" is missing, expected A, B or tie']);
  });

  test('malformed lines, a row without a pair, a CSV without the pair column, a ragged CSV row, an empty file', () => {
    assert.deepEqual(problems([row('p1'), '{not json', row('p2'), row('p3')].join('\n')), ['line 2: not valid JSON']);
    assert.deepEqual(problems([row('p1'), '{"semantic":"A"}', row('p2'), row('p3')].join('\n')), ['line 2: no "pair" id']);
    assert.match(problems('id,semantic\np1,A\n')[0]!, /line 1: a CSV labels file needs a header with a "pair" column/);
    assert.deepEqual(problems('pair,semantic,motion,faithfulness\np1,A,B,tie\np2,A,B\np3,A,A,A\n'), ['line 3: 3 columns, the header has 4', '1 of 3 pairs have no label: "p2"']);
    assert.deepEqual(problems(''), ['3 of 3 pairs have no label: "p1", "p2", "p3"']);
  });
});
