#!/usr/bin/env node
// Example of a job that breaks the protocol: a plain print on its channel ($DUAL_IPO_CHANNEL), where
// only JSON protocol lines belong. (Free text on stdout is fine: stdout is a log.)
import { appendFileSync } from 'node:fs';

const channel = process.env.DUAL_IPO_CHANNEL;
if (!channel) {
  console.error('garbage.mjs: no DUAL_IPO_CHANNEL');
  process.exit(2);
}
console.log('epoch 1 loss=0.42 (a log line on stdout: fine)');
appendFileSync(channel, `${JSON.stringify({ type: 'progress', done: 1, total: 3 })}\n`);
appendFileSync(channel, 'epoch 1 loss=0.42\n');
setTimeout(() => {}, 60_000); // would keep running; the backend kills its process group
