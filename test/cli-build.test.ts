/**
 * bin/run.mjs, what the npm scripts run: the CLI built by esbuild into .build/. It answers as the
 * TypeScript source does through tsx, and an edited source is never answered from an old build.
 * Each test works in its own copy of the sources (node_modules linked), so editing one is safe.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, TSX } from './support/cli-process.js';

const SOURCES = ['analytics', 'bin', 'cli', 'functions', 'local', 'tsconfig.json', 'package.json'];
const ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfSources(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-build-'));
  copies.push(dir);
  for (const name of SOURCES) cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function built(dir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [path.join(dir, 'bin', 'run.mjs'), ...args], { cwd: dir, env: ENV, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function fromSource(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(TSX, [CLI, ...args], { cwd: ROOT, env: ENV, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the built CLI (bin/run.mjs)', () => {
  it('answers help, bad input and the saved questions exactly as the source does', () => {
    const dir = copyOfSources();
    for (const args of [['query', '--help'], ['query', '--format', 'xml'], ['sync', '--help'], ['query', 'sql', '--saved'], ['nonsense']]) {
      const expected = fromSource(args);
      expect(built(dir, args), args.join(' ')).toEqual(expected);
    }
  });

  it('builds again when a source changes, so an edit shows on the next run', () => {
    const dir = copyOfSources();
    expect(built(dir, ['query', '--help']).stdout).toContain('Reads the replicas table;');
    const file = path.join(dir, 'cli', 'query-command.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Reads the replicas table;', 'Reads the edited replicas table;'));
    const after = built(dir, ['query', '--help']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('Reads the edited replicas table;');
  });
});
