// Waiting for a campaign's result across Temporal outages. The SDK's own retries of the long poll give
// up after about 40 s of UNAVAILABLE; a campaign outlives a server restart (its state is on the server
// and the workers reconnect), so the follower must too: it keeps re-attaching until the server answers,
// and only a real outcome (completed, failed, cancelled, terminated, timed out) ends it.
import type { Client } from '@temporalio/client';
import type { CampaignResult } from '../../workflows/definitions';

// gRPC status codes of a server that is down, restarting or unreachable (not of a refused request).
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const CONNECTION_MESSAGE = /\b(UNAVAILABLE|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection dropped|No connection established|Failed to connect)\b/i;

/** True when `err` (or a cause of it) says the server could not be reached, rather than that the workflow ended or the call was refused. */
export function isConnectionError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) return true;
    if (typeof code === 'string' && CONNECTION_MESSAGE.test(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_MESSAGE.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export interface OutageEvents {
  /** the server stopped answering at `since` (once per outage) */
  unreachable?(since: Date, err: unknown): void;
  /** it answers again after an outage that began at `since` */
  back?(since: Date): void;
}

export interface FollowResultOptions extends OutageEvents {
  /** pause between attempts while the server is unreachable (default 2 s) */
  retryMs?: number;
  /** aborts the wait (the promise rejects with the signal's reason) */
  signal?: AbortSignal;
}

/**
 * Resolves with the campaign's result; rejects with the workflow's failure when it ended otherwise.
 * Connection errors never end it: it waits and attaches again (to the latest run, so a
 * continue-as-new during the outage is followed too).
 */
export async function followResult(client: Pick<Client, 'workflow'>, campaignId: string, opts: FollowResultOptions = {}): Promise<CampaignResult> {
  const retryMs = opts.retryMs ?? 2_000;
  let since: Date | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const result = (await client.workflow.getHandle(campaignId).result()) as CampaignResult;
      if (since) opts.back?.(since);
      return result;
    } catch (err) {
      if (!isConnectionError(err)) {
        if (since) opts.back?.(since);
        throw err;
      }
      if (!since) {
        since = new Date();
        opts.unreachable?.(since, err);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        opts.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
