// The job's protocol channel (docs/command-backend.md, "2. The channel"): JSON lines in the file
// named by DUAL_IPO_CHANNEL. stdout and stderr are plain logs. A job written for contract @1 prints
// its protocol lines on stdout instead: while the channel file does not exist, stdout lines that are
// protocol objects count as protocol and every other stdout line is a log line.
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** Where reading a growing file stopped. */
export interface Cursor {
  offset: number;
  lineNo: number;
  pending: string;
}
export const newCursor = (): Cursor => ({ offset: 0, lineNo: 0, pending: '' });

export interface ProgressMessage {
  type: 'progress';
  done: number;
  total: number;
  message?: string;
  checkpoint?: unknown;
  /** Checkpoint files, relative to the request's checkpointDir, uploaded before the checkpoint counts. */
  files?: string[];
}
export interface LogMessage {
  type: 'log';
  message: string;
}
export type ProtocolMessage = ProgressMessage | LogMessage;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Complete lines appended to `path` since `cursor` (a last line without its newline waits). */
export async function readNewLines(path: string, cursor: Cursor): Promise<Array<{ lineNo: number; line: string }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info || info.size <= cursor.offset) return [];
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(info.size - cursor.offset);
    await handle.read(buffer, 0, buffer.length, cursor.offset);
    cursor.offset = info.size;
    const lines = (cursor.pending + buffer.toString('utf8')).split('\n');
    cursor.pending = lines.pop() ?? '';
    return lines.map((line) => ({ lineNo: ++cursor.lineNo, line }));
  } finally {
    await handle.close();
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A protocol object, or undefined when `value` is not one. */
export function asProtocol(value: unknown): ProtocolMessage | undefined {
  if (!isObject(value)) return undefined;
  if (value.type === 'progress' && typeof value.done === 'number' && typeof value.total === 'number') {
    if (value.files !== undefined && !(Array.isArray(value.files) && value.files.every((f) => typeof f === 'string'))) return undefined;
    return value as unknown as ProgressMessage;
  }
  if (value.type === 'log') return { type: 'log', message: String(value.message ?? '') };
  return undefined;
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Reads both sources of a job's protocol lines; `legacy` is true once stdout carried one. */
export class JobChannel {
  channel = newCursor();
  stdout = newCursor();
  legacy = false;

  constructor(
    readonly channelPath: string,
    readonly stdoutPath: string,
  ) {}

  /** New protocol messages in order. A channel line that is not one is a ProtocolError. */
  async read(): Promise<ProtocolMessage[]> {
    const messages: ProtocolMessage[] = [];
    for (const { lineNo, line } of await readNewLines(this.channelPath, this.channel)) {
      if (line.trim() === '') continue;
      const message = asProtocol(parse(line));
      if (!message) throw new ProtocolError(`channel line ${lineNo} is not a progress or log message: ${JSON.stringify(line.slice(0, 200))}`);
      messages.push(message);
    }
    // An @1 job: protocol lines on stdout, for as long as nothing was written to the channel.
    if (this.channel.offset === 0 && !existsSync(this.channelPath)) {
      for (const { line } of await readNewLines(this.stdoutPath, this.stdout)) {
        // torchrun's --tee/--log-prefix marks each line with its rank: `[rank0]: {...}`, `[default0]:{...}`.
        const text = line.replace(/^\[(?:rank|default)\d+\]:\s?/, '').trimStart();
        const message = text.startsWith('{') ? asProtocol(parse(text)) : undefined;
        if (message) {
          this.legacy = true;
          messages.push(message);
        }
      }
    }
    return messages;
  }
}
