/**
 * The engine's errors. The engine states facts (which setting, which table, which replica); each
 * edge phrases the fix for its own user through `SettingTerms` (settings/terms.ts): the CLI names its flag, the
 * deployed function names the cdk.json context key and its environment variable. Every error keeps
 * what caused it as `cause`.
 */
/**
 * A failure another attempt may mend (a 5xx, a timeout, a throttled or cancelled transaction).
 * Retry loops retry exactly this class, as dlt's load stage retries its transient exceptions;
 * whatever else is thrown ends the loop at once.
 */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    /** What failed, briefly: "HTTP 503", "no answer within 30000 ms". */
    message: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
    /** The answer's Retry-After header, when it sent one. */
    readonly retryAfter?: string | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failure no retry mends: one sentence that says what to do. The API's and the store's errors are its kinds. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

/** Bad input from a person (a flag, an environment value, a context key): exit status 2. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    /** The setting at fault, when one is: its key in the settings registry (settings/registry.ts). */
    readonly setting?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A Tavus API request failed for good. `message` is one sentence that says what to do. */
export class TavusApiError extends TerminalError {
  override name = 'TavusApiError';
  constructor(
    message: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What a DynamoDB call was doing when it failed. */
export type StoreOperation = 'read' | 'write' | 'create';

/**
 * Why a DynamoDB call failed, as far as the SDK's error `name`/`code` tell: an edge may phrase the
 * fix its own way (the CLI offers `--create-tables` for a missing table; the Lambda cannot).
 */
export type StoreFailure = 'table-missing' | 'index-missing' | 'no-credentials' | 'no-region' | 'access-denied' | 'unreachable' | 'refused-as-invalid' | 'failed';

/** A DynamoDB failure as one sentence that says what to do, with the table, operation and reason. */
export class StoreError extends TerminalError {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly table: string,
    readonly operation: StoreOperation,
    readonly reason: StoreFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Turns the SDK's errors into a sentence an operator can act on, classified by `name`/`code` only.
 * The SDK throws a plain `Error` without a name or code when no region is configured, so the
 * caller says whether the client lacks one (`regionMissing`, see `lacksRegion`).
 */
export function describeAwsError(
  error: unknown,
  table: string,
  operation: StoreOperation,
  facts: { regionMissing?: boolean } = {},
): StoreError {
  if (error instanceof StoreError) return error;
  const { name = '', code, cause } = (error ?? {}) as { name?: string; code?: string; cause?: { code?: string } };
  const message = (error as Error | undefined)?.message ?? String(error);
  const fail = (reason: StoreFailure, text: string) => new StoreError(text, table, operation, reason, { cause: error });
  if (name === 'ResourceNotFoundException') {
    return fail('table-missing', `The DynamoDB table "${table}" does not exist here: deploy the stack (npx cdk deploy) or fix the table name.`);
  }
  if (name === 'CredentialsProviderError') {
    return fail('no-credentials', 'No AWS credentials were found: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID).');
  }
  if (facts.regionMissing) {
    return fail('no-region', 'No AWS region is configured: set AWS_REGION (for example AWS_REGION=eu-west-1).');
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return fail('access-denied', `AWS refused to ${operation} the table "${table}" (${name}): use credentials allowed to ${operation} it.`);
  }
  if (code === 'ECONNREFUSED' || cause?.code === 'ECONNREFUSED') {
    return fail('unreachable', 'Nothing answers at the DynamoDB endpoint: start it, or point the endpoint setting at one that runs.');
  }
  // DynamoDB refused the request itself (an item over its limits, say): a caller may isolate the
  // write at fault by this reason, without digging the SDK's error out of `cause`.
  return fail(
    name === 'ValidationException' ? 'refused-as-invalid' : 'failed',
    `DynamoDB failed to ${operation} the table "${table}" (${name || 'error'}: ${message}); run again, and if it persists check the table in the AWS console.`,
  );
}

/** Whether a client has no region to sign with: the one SDK failure without a name or code. */
export async function lacksRegion(client: { config: { region: () => Promise<string> } }): Promise<boolean> {
  return client.config.region().then(
    (region) => !region,
    () => true,
  );
}
