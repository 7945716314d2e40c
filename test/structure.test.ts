/**
 * The layout's promises (README, "where things are"), read from the code's own imports with the TypeScript compiler:
 * Temporal's four roles each have a room — workflows/, activities/, worker.ts, client/ — and the arrows between
 * the rooms go one way. A change that breaks one of these fails here, not in review.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const SKIP = new Set(['node_modules', '.git', '.tollgate', 'dist', 'coverage']);

interface Import {
  /** Repo-relative path of a project file, or the package name. */
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) files.push(relative(ROOT, path));
  }
  return files;
}

function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const base = resolve(ROOT, dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return relative(ROOT, candidate);
  return relative(ROOT, base);
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  source.forEachChild((node) => {
    if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node))) return;
    if (!node.moduleSpecifier || !ts.isStringLiteral(node.moduleSpecifier)) return;
    let typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
    const clause = ts.isImportDeclaration(node) ? node.importClause : undefined;
    if (!typeOnly && clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings)) {
      const elements = clause.namedBindings.elements;
      typeOnly = elements.length > 0 && elements.every((element) => element.isTypeOnly);
    }
    found.push({ to: resolveSpecifier(file, node.moduleSpecifier.text), typeOnly });
  });
  return found;
}

const files = sourceFiles().filter((file) => !file.startsWith('test/') && !file.startsWith('bench/'));
const graph = new Map(files.map((file) => [file, importsOf(file)]));

function offenders(from: (file: string) => boolean, to: (target: string) => boolean, allowed: (file: string, target: string) => boolean = () => false): string[] {
  return files
    .filter(from)
    .flatMap((file) => (graph.get(file) ?? []).filter((edge) => to(edge.to) && !allowed(file, edge.to)).map((edge) => `${file} → ${edge.to}`));
}

describe('the layout: four Temporal roles, arrows one way', () => {
  it('keeps @temporalio/client out of workflow code, directly and through any value import', () => {
    const reaches = (start: string): string[] => {
      const seen = new Set<string>();
      const path: string[] = [];
      const visit = (file: string): boolean => {
        if (seen.has(file)) return false;
        seen.add(file);
        for (const edge of graph.get(file) ?? []) {
          if (edge.typeOnly) continue;
          if (edge.to === '@temporalio/client' || (graph.has(edge.to) && visit(edge.to))) {
            path.unshift(edge.to);
            return true;
          }
        }
        return false;
      };
      return visit(start) ? [start, ...path] : [];
    };
    const leaks = files.filter((file) => file.startsWith('workflows/')).map(reaches).filter((chain) => chain.length > 0);
    expect(leaks.map((chain) => chain.join(' → '))).toEqual([]);
  });

  it('never lets activities import the receivers', () => {
    expect(offenders((file) => file.startsWith('activities/'), (target) => target.startsWith('receivers/'))).toEqual([]);
  });

  it('lets the CLI import activities only where it assembles a worker process (createActivities)', () => {
    const assembling = new Set(['cli/dev.ts', 'cli/processes.ts']);
    expect(
      offenders(
        (file) => file.startsWith('cli/'),
        (target) => target.startsWith('activities/'),
        (file, target) => assembling.has(file) && target === 'activities/index.ts',
      ),
    ).toEqual([]);
  });

  it('keeps the emulator its own program: it imports nothing of the project outside emulator/', () => {
    expect(offenders((file) => file.startsWith('emulator/'), (target) => target.endsWith('.ts') && !target.startsWith('emulator/'))).toEqual([]);
  });

  it('has no import circle except through type-only imports', () => {
    // Tarjan's strongly connected components over value imports.
    let counter = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    const connect = (file: string) => {
      index.set(file, counter);
      low.set(file, counter);
      counter += 1;
      stack.push(file);
      onStack.add(file);
      for (const edge of graph.get(file) ?? []) {
        if (edge.typeOnly || !graph.has(edge.to)) continue;
        if (!index.has(edge.to)) {
          connect(edge.to);
          low.set(file, Math.min(low.get(file)!, low.get(edge.to)!));
        } else if (onStack.has(edge.to)) {
          low.set(file, Math.min(low.get(file)!, index.get(edge.to)!));
        }
      }
      if (low.get(file) === index.get(file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== file);
        if (component.length > 1) circles.push(component.sort());
      }
    };
    for (const file of files) if (!index.has(file)) connect(file);
    expect(circles).toEqual([]);
  });

  it('puts every start, signal, update, query and list of a workflow from outside in client/', () => {
    const calls = /\.workflow\.(start|signalWithStart|execute|list|count|getHandle)\(|\.executeUpdate\(|\.query\((statusQuery|installationStateQuery)/;
    const outside = files.filter(
      (file) =>
        !file.startsWith('client/') &&
        !file.startsWith('workflows/') &&
        file !== 'client.ts' &&
        calls.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    expect(outside).toEqual([]);
  });

  it('opens every source file with a comment that says what it is for', () => {
    const bare = sourceFiles().filter((file) => !/^\s*\/\*/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(bare).toEqual([]);
  });
});
