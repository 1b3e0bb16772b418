#!/usr/bin/env node
// Example of a failing job: reports some progress, explains itself on stderr, exits non-zero.
process.stdout.write(`${JSON.stringify({ type: 'progress', done: 1, total: 3, message: 'loading data' })}\n`);
console.error('CUDA error: out of memory (simulated by examples/jobs/fail-exit.mjs)');
process.exit(3);
