// The command backend's failures: retryable unless marked otherwise (the error's name is the
// Temporal failure type the workflows see).

export class CommandJobError extends Error {
  override name = 'CommandJobError';
  constructor(
    message: string,
    readonly nonRetryable = false,
  ) {
    super(message);
  }
}

/**
 * The worker was draining (SIGTERM): the job was asked to stop, its last checkpoint was kept, and
 * another worker resumes it: through Temporal's retry, or, when the request says the workflow
 * restarts drained stages (drainRestarts), without retry so that the workflow schedules it afresh
 * and the drain costs none of the stage's attempts.
 */
export class WorkerDrained extends CommandJobError {
  override name = 'WorkerDrained';
}
