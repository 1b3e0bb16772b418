// Test servers from the project's own binaries (see lib/temporal/binary.ts): @temporalio/testing's
// default executable is a 'cached-download', which fetches the server from the internet and fails
// here. Passing 'existing-path' means it never downloads anything.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findTemporalCli, findTestServer } from '../../lib/temporal/binary';
import { ensureSearchAttributes } from '../../lib/temporal/search-attributes';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

export interface TimeSkippingEnvOptions {
  /** extra flags for the Java test server */
  extraArgs?: string[];
}

/**
 * The Java time-skipping test server (timers and timeouts fire at once when no worker is busy), with
 * the campaign search attributes registered: it rejects upserts of unknown ones, like a real server.
 * Skipped time is global to the environment: run its tests one at a time.
 */
export async function createTimeSkippingEnv(opts: TimeSkippingEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: findTestServer().path },
      ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
    },
  });
  try {
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

export interface LocalEnvOptions {
  /** e.g. ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'] */
  extraArgs?: string[];
  /** SQLite file (default: in memory) */
  dbFilename?: string;
  namespace?: string;
}

/** The real dev server (in memory, random port, no UI) with the campaign search attributes registered. */
export function createLocalEnv(opts: LocalEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli().path },
      searchAttributes: [...SEARCH_ATTRIBUTE_KEYS],
      log: { format: 'pretty', level: 'error' },
      ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
      ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}),
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    },
  });
}
