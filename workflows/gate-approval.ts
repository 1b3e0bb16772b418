// Optional human approval at a gate: wait for an `approve` update (approver, decision, reason) up to
// a timeout, then take the configured default. The automatic verdict is always computed and recorded.
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ApprovalConfig } from '../config/schema';
import { approveUpdate, type ApprovalRecord, type ApproveRequest, type GateName } from './definitions';

export interface GateWaiter {
  awaiting(): GateName | undefined;
  decide(gate: GateName, autoAccepted: boolean, config: ApprovalConfig): Promise<{ accepted: boolean; approval?: ApprovalRecord }>;
}

/** Registers the `approve` update handler on the current workflow. */
export function gateApprovals(): GateWaiter {
  let awaiting: GateName | undefined;
  let received: ApprovalRecord | undefined;
  setHandler(
    approveUpdate,
    (request: ApproveRequest): ApprovalRecord => {
      received = { by: request.by, decision: request.decision, reason: request.reason, at: new Date().toISOString(), timedOut: false };
      return received;
    },
    {
      validator: (request: ApproveRequest) => {
        if (awaiting === undefined) throw new Error(`${workflowInfo().workflowId} is not waiting for an approval`);
        if (request.gate !== awaiting) throw new Error(`waiting for the ${awaiting} gate, not the ${request.gate} gate`);
        if (request.decision !== 'accept' && request.decision !== 'reject') throw new Error('decision must be "accept" or "reject"');
        if (!request.by?.trim()) throw new Error('an approval needs the approver\'s name (by)');
      },
    },
  );
  return {
    awaiting: () => awaiting,
    async decide(gate, autoAccepted, config) {
      if (config.mode === 'auto') return { accepted: autoAccepted };
      awaiting = gate;
      received = undefined;
      const answered = await condition(() => received !== undefined, config.timeout as `${number}${string}`);
      awaiting = undefined;
      const approval = received as ApprovalRecord | undefined;
      if (answered && approval) return { accepted: approval.decision === 'accept', approval };
      const accepted = config.onTimeout === 'auto' ? autoAccepted : config.onTimeout === 'accept';
      return {
        accepted,
        approval: {
          by: 'timeout',
          decision: accepted ? 'accept' : 'reject',
          reason: `no approval within ${config.timeout}; default "${config.onTimeout}" applied`,
          at: new Date().toISOString(),
          timedOut: true,
        },
      };
    },
  };
}
