/**
 * The parsers the registry's settings use, and the CLI and the CDK app reuse: each takes the text
 * and how to name its source (a flag, a variable, a context key), and throws one InputError
 * sentence that says what to do. Which setting failed is attached once, by `parseSettings`.
 */
import { InputError } from '../errors.js';
import type { ApiResource, ReplicaType } from '../model/replica.js';

// ---- parsers: each takes the text and how to name its source ------------------------------------

function inputError(message: string, options?: ErrorOptions): InputError {
  return new InputError(message, undefined, options);
}

/** Largest first, so a fraction can be offered in the next smaller unit. */
const DURATION_UNITS_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
type DurationUnit = keyof typeof DURATION_UNITS_MS;
const DURATION_EXAMPLES = 'like 90s, 30m, 6h or 1d';

/**
 * `90s`, `30m`, `6h`, `1d` (a whole number above zero and one unit) as milliseconds. Each kind of
 * mistake gets the sentence that fits it: empty, negative, zero, a fraction, no unit, too long.
 */
export function parseDuration(text: string, source: string): number {
  const value = text.trim();
  const number = /^([+-]?\d*\.?\d+)\s*([a-z]*)$/i.exec(value);
  const unit = number?.[2]?.toLowerCase() as DurationUnit | '' | undefined;
  const amount = Number(number?.[1]);
  const fail = (why: string): never => {
    throw inputError(`${source} ${why}`);
  };
  if (value === '') fail(`needs a duration, ${DURATION_EXAMPLES}.`);
  if (!number || (unit !== '' && !(unit! in DURATION_UNITS_MS))) fail(`must be a whole number followed by s, m, h or d (${DURATION_EXAMPLES}), not "${text}".`);
  if (amount < 0) fail(`must be a positive duration (${DURATION_EXAMPLES}), not "${text}": a negative time cannot pass.`);
  if (amount === 0) fail(`must be longer than zero (${DURATION_EXAMPLES}), not "${text}".`);
  if (unit === '') fail(`needs a unit after the number, s, m, h or d (${DURATION_EXAMPLES}), not "${text}".`);
  const ms = amount * DURATION_UNITS_MS[unit as DurationUnit];
  if (!Number.isInteger(amount)) fail(`must be a whole number of its unit (${DURATION_EXAMPLES}), not "${text}"${inSmallerUnit(ms) ?? ''}.`);
  // A safe whole number of milliseconds keeps date arithmetic exact.
  if (!Number.isSafeInteger(ms)) fail(`must be at most ${Math.floor(Number.MAX_SAFE_INTEGER / DURATION_UNITS_MS.d)}d (${DURATION_EXAMPLES}), not "${text}".`);
  return ms;
}

/** A fractional duration said in the largest unit that makes it whole (1.5h: ": write 90m"), if one does. */
function inSmallerUnit(ms: number): string | undefined {
  const unit = (Object.keys(DURATION_UNITS_MS) as DurationUnit[]).find((candidate) => Number.isInteger(ms / DURATION_UNITS_MS[candidate]));
  return unit === undefined ? undefined : `: write ${ms / DURATION_UNITS_MS[unit]}${unit}`;
}

export function parseFraction(text: string, source: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw inputError(`${source} must be a number from 0 to 1 (like 0.5), not "${text}".`);
  }
  return value;
}

export function parsePositiveInteger(text: string, source: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw inputError(`${source} must be a whole number of at least 1, not "${text}".`);
  }
  return value;
}

/** A whole number from 1 to `max`: a bound that keeps a typo from becoming a runaway value. */
export function boundedInteger(max: number, why: string): (text: string, source: string) => number {
  return (text: string, source: string): number => {
    const value = parsePositiveInteger(text, source);
    if (value > max) throw inputError(`${source} must be at most ${max} (${why}), not "${text}".`);
    return value;
  };
}

export function parseReplicaType(text: string, source: string): ReplicaType {
  if (text !== 'user' && text !== 'system') {
    throw inputError(`${source} must be user or system (leave it out for both), not "${text}".`);
  }
  return text;
}

/** `replicas` or `faces`. */
export function parseApiResource(text: string, source: string): ApiResource {
  const value = text.trim();
  if (value === 'replicas' || value === 'faces') return value;
  throw inputError(`${source} must be replicas or faces (leave it out for replicas), not "${text}".`);
}

/** Any http(s) URL, without its trailing slash (a DynamoDB endpoint, say). */
export function parseUrl(text: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch (error) {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** localhost, 127.0.0.0/8 and [::1]: the URL parser has already normalised the host's spelling. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The API's URL: the key travels with every request, so plain http:// only to this machine. */
export function parseApiUrl(text: string, source: string): string {
  const url = parseUrl(text, source);
  if (new URL(url).protocol === 'http:' && !isLoopbackHost(new URL(url).hostname)) {
    throw inputError(
      `${source} must use https:// so the API key never crosses the network in clear text (plain http:// is only for localhost, 127.x.x.x or [::1]), not "${text}".`,
    );
  }
  return url;
}

/** DynamoDB's own rule for table names, checked here so the mistake is named before any request. */
export function parseTableName(text: string, source: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(text)) {
    throw inputError(
      `${source} must be a DynamoDB table name (3 to 255 letters, digits, "_", "-" or "."), not "${text}".`,
    );
  }
  return text;
}

/** A hundred years: longer is a typo, and would push expiry times past what dates can hold. */
export const MAX_TTL_DAYS = 36_500;
/** More requests in flight than this only earns 429s from the API. */
export const MAX_API_CONCURRENCY = 64;

// ---- the registry --------------------------------------------------------------------------------
