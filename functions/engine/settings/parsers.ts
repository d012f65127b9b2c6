/**
 * The parsers the registry's settings use, and the CLI and the CDK app reuse: each takes the text,
 * how to name its source (a flag, a variable, a context key), and the setting it serves, and throws
 * one InputError sentence that says what to do.
 */
import { InputError } from '../errors.js';
import type { ApiResource, ReplicaType } from '../model/replica.js';

// ---- parsers: each takes the text, how to name its source, and the setting it serves ----------

/** Parsers name their setting as a string (their types must not depend on the registry they fill). */
function inputError(message: string, setting?: string, options?: ErrorOptions): InputError {
  return new InputError(message, setting, options);
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `6h`, `1d` (a whole number and one unit) as milliseconds. */
export function parseDuration(text: string, source: string, setting?: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS_MS[match[2] as string]! : 0;
  // A safe whole number of milliseconds keeps date arithmetic exact.
  if (!match || ms <= 0 || !Number.isSafeInteger(ms)) {
    throw inputError(
      `${source} must be a whole number followed by s, m, h or d (like 90s, 30m, 6h or 1d), not "${text}".`,
      setting,
    );
  }
  return ms;
}

export function parseFraction(text: string, source: string, setting?: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw inputError(`${source} must be a number from 0 to 1 (like 0.5), not "${text}".`, setting);
  }
  return value;
}

export function parsePositiveInteger(text: string, source: string, setting?: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw inputError(`${source} must be a whole number of at least 1, not "${text}".`, setting);
  }
  return value;
}

/** A whole number from 1 to `max`: a bound that keeps a typo from becoming a runaway value. */
export function boundedInteger(max: number, why: string): (text: string, source: string, setting?: string) => number {
  return (text: string, source: string, setting?: string): number => {
    const value = parsePositiveInteger(text, source, setting);
    if (value > max) throw inputError(`${source} must be at most ${max} (${why}), not "${text}".`, setting);
    return value;
  };
}

export function parseReplicaType(text: string, source: string, setting?: string): ReplicaType {
  if (text !== 'user' && text !== 'system') {
    throw inputError(`${source} must be user or system (leave it out to sync both), not "${text}".`, setting);
  }
  return text;
}

/** `replicas` or `faces`, its InputError carrying the setting as every parser's does. */
export function parseApiResource(text: string, source: string, setting?: string): ApiResource {
  const value = text.trim();
  if (value === 'replicas' || value === 'faces') return value;
  throw inputError(`${source} must be replicas or faces (leave it out for replicas), not "${text}".`, setting);
}

/** Any http(s) URL, without its trailing slash (a DynamoDB endpoint, say). */
export function parseUrl(text: string, source: string, setting?: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch (error) {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`, setting, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw inputError(`${source} must be an http(s) URL like https://tavusapi.com, not "${text}".`, setting);
  }
  return url.toString().replace(/\/+$/, '');
}

/** localhost, 127.0.0.0/8 and [::1]: the URL parser has already normalised the host's spelling. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The API's URL: the key travels with every request, so plain http:// only to this machine. */
export function parseApiUrl(text: string, source: string, setting?: string): string {
  const url = parseUrl(text, source, setting);
  if (new URL(url).protocol === 'http:' && !isLoopbackHost(new URL(url).hostname)) {
    throw inputError(
      `${source} must use https:// so the API key never crosses the network in clear text (plain http:// is only for localhost, 127.x.x.x or [::1]), not "${text}".`,
      setting,
    );
  }
  return url;
}

/** DynamoDB's own rule for table names, checked here so the mistake is named before any request. */
export function parseTableName(text: string, source: string, setting?: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(text)) {
    throw inputError(
      `${source} must be a DynamoDB table name (3 to 255 letters, digits, "_", "-" or "."), not "${text}".`,
      setting,
    );
  }
  return text;
}

/** A hundred years: longer is a typo, and would push expiry times past what dates can hold. */
export const MAX_TTL_DAYS = 36_500;
/** More requests in flight than this only earns 429s from the API. */
export const MAX_API_CONCURRENCY = 64;

// ---- the registry --------------------------------------------------------------------------------
