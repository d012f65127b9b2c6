#!/usr/bin/env node
/**
 * What the npm scripts run: the CLI (bin/replica-sync.ts) compiled once by the local esbuild into
 * .build/, instead of through tsx at every start (tsx's loader is about half a second of a short
 * query; docs/performance.md). Plain JavaScript, so nothing needs compiling to start it.
 *
 * Never stale: the build lives in a directory named by a hash of every source file it was made
 * from (the list esbuild's metafile gave last time), tsconfig.json, esbuild's version, this file
 * and the checkout's own path. Any edit, checkout or new import changes the hash, and the next run
 * builds again (about a second) before it starts. Packages stay external: they load from
 * node_modules as usual.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(ROOT, '.build');
const INPUTS = path.join(BUILD, 'cli-inputs.json');
const ENTRY = 'bin/replica-sync.ts';
const ALWAYS = ['tsconfig.json', 'bin/run.mjs', 'node_modules/esbuild/package.json'];

/** The build's directory for the sources as they are now, or undefined when there is no list yet. */
function currentBuildDir() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(INPUTS, 'utf8'));
  } catch {
    return undefined;
  }
  return buildDirOf(inputs, (file) => readFileSync(path.join(ROOT, file)));
}

/** The directory named by the hash of `inputs` as `read` gives them. */
function buildDirOf(inputs, read) {
  const hash = createHash('sha256').update(`${ROOT}\0`); // the build names source paths (sourceLocations)
  for (const file of [...ALWAYS, ...inputs]) {
    hash.update(`${file}\0`);
    try {
      hash.update(read(file));
    } catch {
      hash.update('missing');
    }
    hash.update('\0');
  }
  return path.join(BUILD, `cli-${hash.digest('hex').slice(0, 16)}`);
}

/** Builds into a private directory, then renames it into place, so concurrent runs never see half a build. */
async function build() {
  const { build: esbuild } = await import('esbuild');
  mkdirSync(BUILD, { recursive: true });
  const scratch = path.join(BUILD, `tmp-${process.pid}-${Date.now()}`);
  const seen = new Map(); // each source as the build read it, so its name is what it was made from
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { 'replica-sync': ENTRY },
    bundle: true,
    splitting: true, // the CLI's lazy command imports stay lazy
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: scratch,
    metafile: true,
    logLevel: 'error',
    plugins: [sourceLocations(seen)],
  });
  const inputs = Object.keys(result.metafile.inputs).sort();
  writeFileSync(INPUTS, JSON.stringify(inputs));
  const target = buildDirOf(inputs, (file) => seen.get(file) ?? readFileSync(path.join(ROOT, file)));
  try {
    renameSync(scratch, target);
  } catch {
    rmSync(scratch, { recursive: true, force: true }); // another run put the same build in place first
  }
  pruneOlderBuilds(target);
  return target;
}

/**
 * Each module keeps seeing where its source lives (import.meta.dirname, .filename, .url), not the
 * bundle's directory: analytics/saved-questions.ts finds its .sql files beside itself, and
 * local/dynamodb-local.ts resolves packages from there.
 */
const sourceLocations = (seen) => ({
  name: 'source-locations',
  setup(builder) {
    builder.onLoad({ filter: /\.[cm]?ts$/ }, ({ path: file }) => {
      const text = readFileSync(file, 'utf8');
      seen.set(path.relative(ROOT, file).split(path.sep).join('/'), text);
      const where = { dirname: path.dirname(file), filename: file, url: pathToFileURL(file).href };
      return { contents: text.replace(/\bimport\.meta\.(dirname|filename|url)\b/g, (_, key) => JSON.stringify(where[key])), loader: 'ts' };
    });
  },
});

/** Builds other than the current one, left by earlier sources, once they are an hour old. */
function pruneOlderBuilds(keep) {
  for (const name of readdirSync(BUILD)) {
    const dir = path.join(BUILD, name);
    if (dir === keep || !/^(cli-|tmp-)/.test(name)) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > 3_600_000) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone already, or in use elsewhere: the next run tries again.
    }
  }
}

let dir = currentBuildDir();
if (dir === undefined || !existsSync(path.join(dir, 'replica-sync.js'))) dir = await build();
await import(pathToFileURL(path.join(dir, 'replica-sync.js')).href);
