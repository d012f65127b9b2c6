/**
 * The Tavus API key from Secrets Manager, read at run time and cached by Powertools Parameters.
 * Every failure is a sentence that says what to do; none quotes the secret's value.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { InputError } from '../engine/errors.js';
import { putSecretValueCommand } from '../engine/contract/api-key-secret.js';

/** The key changes only when an operator puts a new one; five minutes bounds how stale it can be. */
const SECRET_MAX_AGE_SECONDS = 300;

/** The key from the secret's string value: plain text, or JSON with a TAVUS_API_KEY field. */
export async function readApiKey(secretArn: string | undefined): Promise<string> {
  if (!secretArn) {
    throw new InputError(
      'TAVUS_API_KEY_SECRET_ARN is not set: deploy with the CDK stack (npx cdk deploy), which sets it to the secret holding the Tavus API key.',
    );
  }
  let value: unknown;
  try {
    value = await getSecret(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
  } catch (error) {
    throw new Error(describeSecretError(error, secretArn), { cause: error });
  }
  let key = (value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value ?? '')).trim();
  if (key.startsWith('{')) key = keyFromJson(key);
  if (!key) {
    throw new InputError(
      `The secret ${secretArn} holds no Tavus API key (plain text, or JSON with a TAVUS_API_KEY field): put the key in with ${putSecretValueCommand(secretArn)}`,
    );
  }
  return key;
}

/**
 * The console's default "key/value" secret is JSON: accept it when the field is named plainly.
 * Parse errors are not passed on, as their messages quote the text (the key).
 */
function keyFromJson(text: string): string {
  try {
    const field = (JSON.parse(text) as Record<string, unknown>).TAVUS_API_KEY;
    return typeof field === 'string' ? field.trim() : '';
  } catch {
    return '';
  }
}

function describeSecretError(error: unknown, secretArn: string): string {
  // Powertools wraps the SDK's error; the SDK's own name says what went wrong.
  const cause = ((error as { cause?: unknown }).cause ?? error) as Error;
  if (cause.name === 'ResourceNotFoundException') {
    return `The secret ${secretArn} has no value yet (or does not exist): put the Tavus API key in with ${putSecretValueCommand(secretArn)}`;
  }
  if (cause.name === 'AccessDeniedException') {
    return `The function may not read the secret ${secretArn} (AccessDeniedException): redeploy the stack, which grants it, and if the secret uses your own KMS key, let the function's role decrypt with it.`;
  }
  return `Reading the secret ${secretArn} failed (${cause.name}: ${cause.message}); the next scheduled run tries again.`;
}
