// Registers the campaign search attributes (workflows/search-attributes.ts) on a namespace,
// idempotently, at every boot. Flags at server start are not enough: a dev server started on an
// existing SQLite file ignores --search-attribute for attributes that file does not have yet, and a
// server that just came up may refuse or not yet show additions (temporalio/cli#206,
// temporalio/temporal#6475). So: list, add what is missing, list again until visible, and retry
// transient failures. A workflow that upserts an unregistered attribute fails its workflow task
// over and over, so a missing attribute is an error here, never a warning.
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

type AnyKey = SearchAttributeKey<SearchAttributeType>;

// Values of the proto enum temporal.api.enums.v1.IndexedValueType (stable wire numbers), which is
// what the operator service speaks.
const INDEXED_TYPE: Record<SearchAttributeType, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };
const TYPE_OF_INDEXED = Object.fromEntries(Object.entries(INDEXED_TYPE).map(([type, n]) => [n, type])) as Record<number, SearchAttributeType>;

/** The names `temporal` uses in `--search-attribute Name=Type` and `search-attribute create --type`. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

// gRPC status codes that retrying cannot fix (the rest, e.g. UNAVAILABLE or a namespace not yet in
// the server's cache, usually clear up within seconds of a start).
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_UNAUTHENTICATED = 16;
const PERMANENT = new Set([GRPC_INVALID_ARGUMENT, GRPC_PERMISSION_DENIED, GRPC_UNIMPLEMENTED, GRPC_UNAUTHENTICATED]);

export interface EnsureSearchAttributesOptions {
  /** the attributes to ensure (default: all of SEARCH_ATTRIBUTE_KEYS) */
  keys?: readonly AnyKey[];
  /** give up on transient errors after this long (default 30 s) */
  timeoutMs?: number;
}

export class SearchAttributeError extends Error {
  override name = 'SearchAttributeError';
  constructor(
    message: string,
    /** 'type-clash', 'list-denied' (cannot even read them, e.g. Temporal Cloud), 'add-denied', 'timeout' */
    readonly reason: 'type-clash' | 'list-denied' | 'add-denied' | 'timeout',
  ) {
    super(message);
  }
}

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function searchAttributeFlags(keys: readonly AnyKey[] = SEARCH_ATTRIBUTE_KEYS): string[] {
  return keys.flatMap((k) => ['--search-attribute', `${k.name}=${CLI_TYPE[k.type]}`]);
}

/** What an operator runs to register the attributes by hand (for clusters where we may not). */
export function manualRegistrationCommand(namespace: string, keys: readonly AnyKey[] = SEARCH_ATTRIBUTE_KEYS): string {
  return keys.map((k) => `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${CLI_TYPE[k.type]}`).join('\n');
}

async function listCustom(connection: Connection, namespace: string): Promise<Record<string, number>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.fromEntries(Object.entries(response.customAttributes ?? {}).map(([name, type]) => [name, Number(type)]));
}

function checkTypes(present: Record<string, number>, keys: readonly AnyKey[], namespace: string): AnyKey[] {
  const wrong = keys.filter((k) => k.name in present && present[k.name] !== INDEXED_TYPE[k.type]);
  if (wrong.length) {
    const found = (k: AnyKey) => TYPE_OF_INDEXED[present[k.name]!] ?? `type #${present[k.name]}`;
    throw new SearchAttributeError(
      `namespace ${namespace} already has search attribute(s) of another type: ${wrong.map((k) => `${k.name} is ${found(k)}, expected ${k.type}`).join('; ')}. ` +
        'A type cannot be changed in place: use another namespace (TEMPORAL_NAMESPACE), or for the local dev server delete its database file.',
      'type-clash',
    );
  }
  return keys.filter((k) => !(k.name in present));
}

async function addSearchAttributes(connection: Connection, namespace: string, keys: readonly AnyKey[]): Promise<void> {
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(keys.map((k) => [k.name, INDEXED_TYPE[k.type]])),
    });
  } catch (err) {
    // Another process (a second worker booting) added them first: the next listing shows them.
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
}

/**
 * Makes sure every key exists on the namespace with its type. Returns the names it added (empty when
 * all were there). Throws SearchAttributeError on a type clash or when the server refuses.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, opts: EnsureSearchAttributesOptions = {}): Promise<string[]> {
  const keys = opts.keys ?? SEARCH_ATTRIBUTE_KEYS;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const added = new Set<string>();
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    let step: 'list' | 'register' = 'list';
    try {
      let present: Record<string, number>;
      try {
        present = await listCustom(connection, namespace);
      } catch (err) {
        if (!(isGrpcServiceError(err) && err.code === GRPC_UNIMPLEMENTED)) throw err;
        // The Java time-skipping test server implements AddSearchAttributes but not the listing:
        // add them blindly, one by one (a repeat is ALREADY_EXISTS for the whole request), and trust it.
        step = 'register';
        for (const key of keys) await addSearchAttributes(connection, namespace, [key]);
        return keys.map((k) => k.name);
      }
      const missing = checkTypes(present, keys, namespace);
      if (missing.length === 0) return [...added];
      step = 'register';
      await addSearchAttributes(connection, namespace, missing);
      missing.forEach((k) => added.add(k.name));
      // Loop: the next listing confirms the additions are visible before anyone relies on them.
    } catch (err) {
      if (err instanceof SearchAttributeError) throw err;
      if (isGrpcServiceError(err) && PERMANENT.has(err.code)) {
        throw new SearchAttributeError(
          `cannot ${step} search attributes on namespace ${namespace}: ${err.details || err.message}. ` +
            `Ask the cluster's operator to register them once (Temporal Cloud: in the Cloud UI or with tcld), e.g.:\n${manualRegistrationCommand(namespace, keys)}`,
          step === 'list' ? 'list-denied' : 'add-denied',
        );
      }
      lastError = err;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
  }
  const reason = lastError ? `last error: ${(lastError as Error).message}` : 'the added attributes never showed up in listSearchAttributes';
  throw new SearchAttributeError(`could not register search attributes on namespace ${namespace} within ${timeoutMs / 1000}s (${reason})`, 'timeout');
}

/**
 * Read-only: the attributes missing on the namespace (none when all are there with their types).
 * Throws SearchAttributeError on a type clash; the server's own error when it refuses the listing.
 */
export async function missingSearchAttributes(connection: Connection, namespace: string, keys: readonly AnyKey[] = SEARCH_ATTRIBUTE_KEYS): Promise<string[]> {
  return checkTypes(await listCustom(connection, namespace), keys, namespace).map((k) => k.name);
}
