// Where worker logs go when workers run inside `dual-ipo run`: everything to a log file in the data
// folder (the audit of what the workers did), only warnings and errors to the terminal, so they do
// not bury the progress bars. DUAL_IPO_LOG_LEVEL=DEBUG|INFO|WARN|ERROR sets the file's level.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import { installRuntime } from '../../workers/telemetry';
import { dataDir } from '../paths';

// Activity-only workers (cpu, gpu queues) are meant to have no workflows.
const EXPECTED = /^No workflows registered/;
let installedFile: string | undefined;
const RANK: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

export function installWorkerLog(name: string): string {
  if (installedFile) return installedFile;
  const dir = join(dataDir(), 'logs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.log`);
  const level = (process.env.DUAL_IPO_LOG_LEVEL?.toUpperCase() ?? 'INFO') as LogLevel;
  const sink = (entry: LogEntry) => {
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const meta = entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}` : '';
    appendFileSync(file, `${time} [${entry.level}] ${entry.message}${meta}\n`);
    if (RANK[entry.level]! >= RANK.WARN! && !EXPECTED.test(entry.message)) process.stderr.write(`[${entry.level}] ${entry.message}\n`);
  };
  installRuntime({ logger: new DefaultLogger(level, sink) });
  installedFile = file;
  return file;
}
