#!/usr/bin/env node
// Exec probes for the worker pods (deploy/k8s): the worker serves no HTTP endpoint, so the kubelet
// runs this script in the container. Plain Node, no tsx: a probe must start in milliseconds.
//   node deploy/probe.mjs ready   the Temporal frontend (TEMPORAL_ADDRESS) accepts a TCP connection
//   node deploy/probe.mjs live    the worker process exists and is neither stopped nor a zombie
// Options: --timeout-ms N (ready, default 3000); --match S (live: the script path in the worker's
// command line, default bin/dual-ipo.mjs). Exit 0 = healthy, 1 = not, 2 = usage.
// `live` cannot see a hung event loop; an HTTP probe on the worker's own endpoint would, once one exists.
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'timeout-ms': { type: 'string', default: '3000' }, match: { type: 'string', default: 'bin/dual-ipo.mjs' } },
});

function fail(message, code = 1) {
  console.error(`probe: ${message}`);
  process.exit(code);
}

/** host:port, [v6]:port; the port defaults to Temporal's 7233 as in lib/temporal/target.ts. */
function hostPort(address) {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) return { host: v6[1], port: Number(v6[2] ?? 7233) };
  const [host, port] = address.split(':');
  return { host, port: Number(port ?? 7233) };
}

function ready() {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) fail('TEMPORAL_ADDRESS is not set');
  const { host, port } = hostPort(address);
  const timeout = Number(values['timeout-ms']);
  const socket = connect({ host, port });
  const timer = setTimeout(() => {
    socket.destroy();
    fail(`no connection to ${address} within ${timeout} ms`);
  }, timeout);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.end();
    process.exit(0);
  });
  socket.once('error', (err) => {
    clearTimeout(timer);
    fail(`cannot connect to ${address}: ${err.message}`);
  });
}

function live() {
  const states = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    let argv;
    let stat;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const script = argv.findIndex((arg) => arg.endsWith(values.match));
    if (script < 0 || argv[script + 1] !== 'worker') continue;
    // The state follows the command name in parentheses, which may itself contain spaces.
    states.push({ pid, state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) });
  }
  if (states.length === 0) fail(`no worker process (${values.match} worker)`);
  const bad = states.filter(({ state }) => 'ZTtXx'.includes(state));
  if (bad.length) fail(`worker process ${bad.map(({ pid, state }) => `${pid} in state ${state}`).join(', ')}`);
  process.exit(0);
}

if (positionals[0] === 'ready') ready();
else if (positionals[0] === 'live') live();
else fail('usage: node deploy/probe.mjs ready|live [--timeout-ms N] [--match S]', 2);
