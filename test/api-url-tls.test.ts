/**
 * The API key travels with every request, so the API URL must be https, except to this machine
 * (the simulator on 127.0.0.1): in the CLI, in the deployed function's environment, and at synth.
 */
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { settingsFrom } from '../cli/args.js';
import { InputError } from '../functions/engine/errors.js';
import { isLoopbackHost, parseApiUrl } from '../functions/engine/settings/parsers.js';
import { parseSettings } from '../functions/engine/settings/registry.js';
import { handler } from '../functions/sync/handler.js';
import { readDeployConfig } from '../lib/deploy-config.js';
import { inputErrorFrom } from './support/input-error.js';

const CLEAR_TEXT = ['http://tavusapi.com', 'http://tavusapi.com:443/', 'http://10.0.0.7:8080', 'http://localhost.example.com', 'http://127.0.0.1.nip.io', 'http://[::2]:80', 'HTTP://TAVUSAPI.COM'];
const LOOPBACK = ['http://127.0.0.1:8080', 'http://127.8.9.10', 'http://localhost:3000/', 'http://LOCALHOST', 'http://[::1]:9000', 'http://127.1'];

/** The InputError a call throws, checked to be one sentence that says to use https. */
function refusal(call: () => unknown, source: string): InputError {
  const error = inputErrorFrom(call);
  expect(error.message.startsWith(source), error.message).toBe(true);
  expect(error.message).toContain('must use https://');
  expect(error.message.endsWith('.')).toBe(true);
  expect(error.message.split('. ')).toHaveLength(1);
  expect(error.setting).toBe('apiUrl');
  return error;
}

describe('the API URL', () => {
  it.each(CLEAR_TEXT)('refuses %s: plain http to another host', (url) => {
    refusal(() => parseSettings({ apiUrl: url }), 'TAVUS_API_URL');
  });

  it.each(LOOPBACK)('accepts %s: plain http to this machine', (url) => {
    expect(parseApiUrl(url, 'TAVUS_API_URL')).toMatch(/^http:\/\//);
  });

  it('accepts https to any host', () => {
    expect(parseApiUrl('https://tavusapi.com/', '--api-url')).toBe('https://tavusapi.com');
    expect(parseApiUrl('https://10.0.0.7:8443', '--api-url')).toBe('https://10.0.0.7:8443');
  });

  it('knows loopback by the normalised host only', () => {
    expect(['localhost', '127.0.0.1', '127.255.255.254', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', '0.0.0.0', '[::]', 'localhost.', 'mylocalhost', '127.0.0.1.example.com'].some(isLoopbackHost)).toBe(false);
  });
});

describe('the CLI', () => {
  it('refuses a clear-text --api-url, naming the flag', () => {
    refusal(() => settingsFrom({ apiUrl: 'http://tavusapi.com' }, {}), '--api-url');
  });

  it('refuses a clear-text TAVUS_API_URL, naming the variable', () => {
    refusal(() => settingsFrom({}, { TAVUS_API_URL: 'http://tavusapi.com' }), 'TAVUS_API_URL');
  });

  it('lets the simulator on 127.0.0.1 through', () => {
    expect(settingsFrom({ apiUrl: 'http://127.0.0.1:4010' }, {}).apiUrl).toBe('http://127.0.0.1:4010');
  });
});

describe('the deployed function', () => {
  const saved = process.env.TAVUS_API_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.TAVUS_API_URL;
    else process.env.TAVUS_API_URL = saved;
  });

  it('refuses a clear-text TAVUS_API_URL before it reads the key, naming the context key and the variable', async () => {
    process.env.TAVUS_API_URL = 'http://tavusapi.com';
    const context = { functionName: 'test', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const caught = await handler({}, context).catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as Error).message).toMatch(/^The context key apiUrl \(TAVUS_API_URL\) must use https:\/\//);
  });
});

describe('cdk synth (the deploy config reader)', () => {
  const config = (values: Record<string, unknown>) => readDeployConfig((key) => values[key]);

  it('refuses a clear-text apiUrl, naming the context key', () => {
    refusal(() => config({ apiUrl: 'http://tavusapi.com' }), 'The context value "apiUrl" (cdk.json or -c apiUrl=...)');
  });

  it('accepts https, and loopback http for a local stand-in', () => {
    expect(config({ apiUrl: 'https://tavusapi.com/' }).syncEnvironment.TAVUS_API_URL).toBe('https://tavusapi.com');
    expect(config({ apiUrl: 'http://127.0.0.1:4010' }).syncEnvironment.TAVUS_API_URL).toBe('http://127.0.0.1:4010');
  });
});
