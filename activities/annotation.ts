// The human test set's annotation steps as activities (workflows/human-test.ts): export this round's
// champion candidates for annotation, the reference world's simulated panel, and the ingest that
// validates a labels file and writes the refreshed test set. A labels file with problems fails the
// ingest as HumanLabelsInvalid (non-retryable), naming every bad row; nothing is written.
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../lib/artifacts/types';
import type { StoreLocation } from '../lib/stages/contract';
import { storeFor } from '../lib/stages/runner';
import { exportFolderUri, exportHumanTest, ingestHumanLabels, simulateHumanLabels, type ExportArgs, type IngestArgs, type IngestResult } from '../lib/stages/annotation/human-test';
import { LabelsError } from '../lib/stages/annotation/labels';
import type { HumanEvidence } from '../lib/stages/annotation/human-test';

export async function exportHumanTestPairs(input: { store: StoreLocation } & ExportArgs): Promise<{ export: ArtifactRef; pairs: number; folder: string }> {
  const { store: location, ...args } = input;
  const store = storeFor(location);
  const out = await exportHumanTest(store, args);
  return { ...out, folder: exportFolderUri(store, args.campaignId, args.round) };
}

export async function simulatedHumanLabels(input: { store: StoreLocation; export: ArtifactRef; seed: string; evidence?: HumanEvidence }): Promise<ArtifactRef> {
  return (await simulateHumanLabels(storeFor(input.store), input)).labels;
}

export async function ingestHumanTestLabels(input: { store: StoreLocation } & IngestArgs): Promise<IngestResult> {
  const { store: location, ...args } = input;
  try {
    return await ingestHumanLabels(storeFor(location), args);
  } catch (err) {
    if (err instanceof LabelsError) throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, details: [err.problems.slice(0, 100)] });
    throw err;
  }
}
