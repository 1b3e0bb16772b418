// A stand-in worker process for the command-backend tests: runs one stage request with the command
// backend, so a test can SIGKILL it in the middle the way a node failure would.
// Usage: node --import tsx test/helpers/run-stage-child.ts REQUEST_JSON JOBS_DIR
import { runStage } from '../../lib/stages/runner';
import { commandStage } from '../../lib/stages/command/backend';

const [request, jobsDir] = process.argv.slice(2);
const result = await runStage(JSON.parse(request!), { resolveImpl: async () => commandStage({ jobsDir: jobsDir!, killGraceMs: 500 }) });
process.stdout.write(`${JSON.stringify(result)}\n`);
