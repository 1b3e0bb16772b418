// Every error a store method throws names the store and what it was doing: an SDK or file-system
// message alone ("Could not load credentials from any providers", "EACCES") does not say which of
// several stores, or which object, failed.
import { ArtifactIntegrityError, ArtifactNotFoundError, ArtifactStoreError, InvalidArtifactKeyError, type ArtifactStore } from './store';

const NAMED = Symbol('names its artifact store');

const OPERATIONS = ['put', 'putFile', 'putJson', 'get', 'getJson', 'getToFile', 'head', 'exists', 'list', 'delete', 'cleanupTemp', 'uriFor', 'keyOf'] as const;

/** SDK error names that retrying cannot fix: no credentials found, or credentials the service refuses. */
const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

export const S3_CREDENTIALS_HINT =
  'Provide S3 credentials with AWS_PROFILE (a profile in ~/.aws/config or ~/.aws/credentials), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or run where an IAM role supplies them (EC2 instance profile, ECS task role, EKS service account)';

function describeTarget(arg: unknown, operation: string): string | undefined {
  if (typeof arg === 'string') return operation === 'list' && arg === '' ? '(whole store)' : arg;
  if (arg && typeof arg === 'object' && 'uri' in arg) return String((arg as { uri: unknown }).uri);
  return undefined;
}

/** The error to throw for `err`, raised by `operation` on `target` in the store at `root`. */
export function storeError(err: unknown, root: string, operation: string, target?: string): Error {
  if (err instanceof ArtifactStoreError || (err instanceof Error && NAMED in err)) return err;
  let named: Error;
  if (err instanceof InvalidArtifactKeyError || err instanceof ArtifactNotFoundError || err instanceof ArtifactIntegrityError) {
    // Callers branch on these classes: keep the class, put the store in the message.
    err.message = `artifact store ${root}: ${operation}${target ? ` ${target}` : ''}: ${err.message}`;
    named = err;
  } else {
    const name = (err as { name?: string } | undefined)?.name ?? '';
    const credentials = CREDENTIAL_ERRORS.has(name);
    named = new ArtifactStoreError(root, operation, target, err, credentials ? { nonRetryable: true, hint: S3_CREDENTIALS_HINT } : {});
  }
  Object.defineProperty(named, NAMED, { value: true });
  return named;
}

/**
 * Wraps the store's own methods (call it at the end of its constructor) so that whatever they throw
 * goes through storeError. Calls between methods (exists -> head) keep the innermost operation's name.
 */
export function nameStoreInErrors(store: ArtifactStore): void {
  const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const operation of OPERATIONS) {
    const original = methods[operation]!.bind(store);
    methods[operation] = (...args: unknown[]) => {
      const fail = (err: unknown): never => {
        throw storeError(err, store.root, operation, describeTarget(args[0], operation));
      };
      try {
        const out = original(...args);
        return out instanceof Promise ? out.catch(fail) : out;
      } catch (err) {
        return fail(err);
      }
    };
  }
}
