// `labels submit` refuses what it cannot send before connecting; `status` shows a round waiting for labels.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../lib/cli/args';
import { labelsCommand } from '../../../lib/cli/labels-command';
import { formatStatus, humanLabelsReminder } from '../../../lib/cli/campaign-commands';
import type { HumanLabelsStatusView } from '../../../workflows/human-test-definitions';

const waiting: HumanLabelsStatusView = {
  round: 2,
  phase: 'awaiting-labels',
  annotators: 'external',
  generator: 'g1',
  export: { manifest: { uri: 'file:///s/export.json', sha256: 'a'.repeat(64), size: 1 }, folder: 'file:///s/campaigns/c/round-0002/human-test/export/', pairs: 250 },
  waitingSince: '2026-12-05T10:00:00.000Z',
  deadline: '2026-12-12T10:00:00.000Z',
  onTimeout: 'keep-previous',
  reminders: 2,
  refused: [{ by: 'ana', at: '2026-12-05T11:00:00.000Z', error: 'labels.jsonl: 1 problem, nothing ingested:\n  line 4: unknown pair "x"' }],
};

describe('labels', () => {
  test('usage errors name what is missing, before any connection', async () => {
    await assert.rejects(labelsCommand([]), (e: Error) => e instanceof UsageError && /missing subcommand/.test(e.message));
    await assert.rejects(labelsCommand(['send', 'c1']), (e: Error) => e instanceof UsageError && /unknown subcommand "send"/.test(e.message));
    await assert.rejects(labelsCommand(['submit', 'c1', '--by', 'ana']), (e: Error) => e instanceof UsageError && /missing --file/.test(e.message));
    await assert.rejects(labelsCommand(['submit', 'c1', '--file', '/nonexistent/labels.jsonl', '--by', 'ana']), (e: Error) => e instanceof UsageError && /--file \/nonexistent\/labels.jsonl/.test(e.message));
  });

  test('status reminds what is awaited, since when, where the export is and how to submit', () => {
    const text = formatStatus({ campaignId: 'c1', workflowStatus: 'RUNNING', activities: [], humanLabels: waiting, status: { campaignId: 'c1', phase: 'running', round: 2, stage: 'human-test', stagesDone: 3, stagesTotal: 8, lastGates: [], recentRounds: [], consecutiveRejected: 0, refineCriticNext: true, stopRequested: false, paused: false } });
    assert.match(text, /AWAITING HUMAN LABELS since 2026-12-05T10:00:00.000Z \(until 2026-12-12T10:00:00.000Z, then keep-previous; 2 reminders logged\): 250 pairs of g1's candidates/);
    assert.match(text, /export: file:\/\/\/s\/campaigns\/c\/round-0002\/human-test\/export\/ \(label-studio-tasks.json/);
    assert.match(text, /submit: dual-ipo labels submit c1 --file LABELS --by NAME/);
    assert.match(text, /refused \(ana, 2026-12-05T11:00:00.000Z\): labels.jsonl: 1 problem, nothing ingested:\s+line 4: unknown pair "x"/);
    assert.deepEqual(humanLabelsReminder('c1', { ...waiting, phase: 'validating', refused: [] }), [`  human test set of round 2: validating (250 pairs of g1's candidates, ${waiting.export!.folder})`]);
  });
});
