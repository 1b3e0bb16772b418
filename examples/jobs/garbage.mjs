#!/usr/bin/env node
// Example of a job that breaks the stdout protocol: a plain print instead of a JSON line.
process.stdout.write(`${JSON.stringify({ type: 'progress', done: 1, total: 3 })}\n`);
console.log('epoch 1 loss=0.42');
setTimeout(() => {}, 60_000); // would keep running; the backend kills its process group
