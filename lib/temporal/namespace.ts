// The embedded server creates its namespaces only from --namespace flags at start. A server that is
// reused (started earlier, or by hand) may lack the one TEMPORAL_NAMESPACE asks for: register it.
// Never called for an external cluster, whose namespaces belong to its operator.
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const RETENTION = '7 days';

/** Registers `namespace` when missing and waits until the server serves it. Returns true when it registered it. */
export async function ensureLocalNamespace(connection: Connection, namespace: string, timeoutMs = 30_000): Promise<boolean> {
  const exists = async () => {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return true;
    } catch (err) {
      if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) return false;
      throw err;
    }
  };
  if (await exists()) return false;
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) });
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
  // A new namespace reaches the frontend's namespace cache a moment later.
  const deadline = Date.now() + timeoutMs;
  while (!(await exists())) {
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} was registered but is not served after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return true;
}
