// A stand-in worker process for the command-backend tests: runs one stage request with the command
// backend, so a test can SIGKILL it in the middle the way a node failure would.
// Usage: node --import tsx test/helpers/run-stage-child.ts REQUEST_JSON JOBS_DIR [SLOT_POOL_JSON]
// SLOT_POOL_JSON: { "spec": { "name", "devices"?, "size" }, "dir" } for a worker queue's slots.
import { runStage } from '../../lib/stages/runner';
import { commandStage } from '../../lib/stages/command/backend';
import { SlotPool } from '../../lib/stages/command/slots';

const [request, jobsDir, pool] = process.argv.slice(2);
const slots = pool ? new SlotPool(JSON.parse(pool).spec, JSON.parse(pool).dir) : undefined;
const result = await runStage(JSON.parse(request!), { resolveImpl: async () => commandStage({ jobsDir: jobsDir!, killGraceMs: 500, ...(slots ? { slots } : {}) }) });
process.stdout.write(`${JSON.stringify(result)}\n`);
