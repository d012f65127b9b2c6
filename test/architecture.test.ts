/**
 * The house rules, read off the import graph: the engine's folders are stages around a leaf
 * `model/`; the CDK app reaches into the runtime only through the engine's `contract/`, `settings/`
 * and `errors.ts`; no barrel files; no import cycle anywhere under functions/, cli/ or lib/ (type-only
 * imports count: a cycle of types still means a type lives in the wrong module).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SCANNED = ['functions', 'cli', 'lib', 'bin', 'local', 'bench', 'analytics'];
const ENGINE = 'functions/engine';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: static imports and exports (type-only too) and dynamic imports. */
export function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The project file a relative specifier names (`./x.js` is `./x.ts` on disk), or undefined for a package. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`]) {
    if (existsSync(join(ROOT, candidate)) && statSync(join(ROOT, candidate)).isFile()) return candidate;
  }
  throw new Error(`${from} imports ${specifier}, which is not a file of the project.`);
}

const files = SCANNED.flatMap(sourceFiles);
const graph = new Map<string, string[]>(
  files.map((file) => [
    file,
    specifiersOf(readFileSync(join(ROOT, file), 'utf8'))
      .map((specifier) => resolve(file, specifier))
      .filter((target): target is string => target !== undefined),
  ]),
);

/** Every cycle's files, found with Tarjan's strongly connected components. */
export function cyclesOf(edges: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

describe('the house', () => {
  it('has no import cycle under functions/, cli/, lib/ (type-only imports included)', () => {
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    const edges = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(edges)).toEqual([['a', 'b', 'c']]);
    expect(specifiersOf(`import type { X } from './x.js';\nexport { y } from "../y.js";\nawait import('./z.js');`)).toEqual([
      './x.js',
      '../y.js',
      './z.js',
    ]);
  });

  it('keeps model/ a leaf: it imports nothing outside itself but Node built-ins', () => {
    const escapes: string[] = [];
    for (const [file, targets] of graph) {
      if (!file.startsWith(`${ENGINE}/model/`)) continue;
      for (const target of targets) if (!target.startsWith(`${ENGINE}/model/`)) escapes.push(`${file} -> ${target}`);
      for (const specifier of specifiersOf(readFileSync(join(ROOT, file), 'utf8'))) {
        if (!specifier.startsWith('.') && !specifier.startsWith('node:')) escapes.push(`${file} -> ${specifier}`);
      }
    }
    expect(escapes).toEqual([]);
  });

  it('lets lib/ import from the runtime only contract/, settings/ and errors.ts (and the saved questions of analytics/)', () => {
    const allowed = (target: string) =>
      target.startsWith('lib/') ||
      // The analysts' saved questions: plain files and their loader, shared with the query CLI.
      target.startsWith('analytics/') ||
      target.startsWith(`${ENGINE}/contract/`) ||
      target.startsWith(`${ENGINE}/settings/`) ||
      target === `${ENGINE}/errors.ts`;
    const reaches = [...graph].flatMap(([file, targets]) =>
      file.startsWith('lib/') ? targets.filter((target) => !allowed(target)).map((target) => `${file} -> ${target}`) : [],
    );
    expect(reaches).toEqual([]);
  });

  it('keeps the stages apart: extract/, plan/ and load/ never import one another', () => {
    const stages = ['extract', 'plan', 'load'];
    const stageOf = (file: string) => stages.find((stage) => file.startsWith(`${ENGINE}/${stage}/`));
    const crossings = [...graph].flatMap(([file, targets]) => {
      const own = stageOf(file);
      if (own === undefined) return [];
      return targets.filter((target) => (stageOf(target) ?? own) !== own).map((target) => `${file} -> ${target}`);
    });
    expect(crossings).toEqual([]);
  });

  it('has no barrel index.ts files, and the test-only memory store lives under test/', () => {
    expect(files.filter((file) => /(^|\/)index\.ts$/.test(file))).toEqual([]);
    expect(files.filter((file) => file.includes('memory-store'))).toEqual([]);
    expect(relative(ROOT, join(ROOT, 'test/support/memory-store.ts'))).toBe('test/support/memory-store.ts');
    expect(existsSync(join(ROOT, 'test/support/memory-store.ts'))).toBe(true);
  });
});
