// Argument parsing shared by the commands: node's parseArgs with errors that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends Options>(argv: string[], options: T, help: string) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals, help: (parsed.values as Record<string, unknown>).help === true };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}

export function requireString(values: Record<string, unknown>, name: string, help: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`missing --${name}\n\n${help}`);
  return value;
}

export function requirePositional(positionals: string[], what: string, help: string): string {
  const value = positionals[0];
  if (!value) throw new UsageError(`missing ${what}\n\n${help}`);
  return value;
}

/** What a command accepts and says it accepts; main.ts lists one per command and a test holds them equal. */
export interface CommandSpec {
  help: string;
  options: Options;
}

/** The flags of every command that talks to Temporal; they override TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE. */
export const CONNECT_OPTIONS = { address: { type: 'string' }, namespace: { type: 'string' } } as const satisfies Options;

export const CONNECT_HELP = `  --address HOST:PORT   Temporal frontend (default TEMPORAL_ADDRESS; unset: the local dev server)
  --namespace NS        Temporal namespace (default TEMPORAL_NAMESPACE, else "default")`;

export function targetOverrides(values: Record<string, unknown>): { address?: string; namespace?: string } {
  const address = typeof values.address === 'string' && values.address ? values.address : undefined;
  const namespace = typeof values.namespace === 'string' && values.namespace ? values.namespace : undefined;
  return { ...(address ? { address } : {}), ...(namespace ? { namespace } : {}) };
}
