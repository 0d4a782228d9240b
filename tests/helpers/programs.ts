/**
 * Turns the code blocks a page shows (README, a guide) into one program a
 * reader would run: the blocks in page order, each in its own `{ … }` scope
 * (so two snippets may both declare `encoder`), their imports merged at the
 * top. As TypeScript (for `tsc`), and transpiled to an ES module and to a
 * CommonJS script (whose top-level `await`s go into an async function, as
 * the getting-started guide tells CommonJS users to do).
 */
import ts from 'typescript';

interface Imports {
  /** Whole-statement imports kept once each: namespace, default and side-effect imports. */
  statements: Set<string>;
  /** Named imports merged per module. */
  named: Map<string, Set<string>>;
}

const IMPORT = /^import\s+([\s\S]*?)\s+from\s+'([^']+)';?[ \t]*(\/\/.*)?$/gm;

function splitImports(code: string, into: Imports): string {
  return code.replace(IMPORT, (statement: string, clause: string, module: string) => {
    const named = /^\{([\s\S]*)\}$/.exec(clause.trim());
    if (named) {
      const set = into.named.get(module) ?? new Set<string>();
      for (const spec of named[1]!.split(',').map((s) => s.trim()).filter(Boolean)) set.add(spec);
      into.named.set(module, set);
    } else {
      into.statements.add(`import ${clause} from '${module}';`);
    }
    return '';
  });
}

/**
 * The blocks as one TypeScript program: merged imports, then `prelude` (names
 * the page leaves to the reader, such as "your folder"), then each block in
 * its own scope.
 */
export function programFromBlocks(blocks: string[], prelude = ''): { imports: string; body: string } {
  const imports: Imports = { statements: new Set(), named: new Map() };
  const given = splitImports(prelude, imports).trim();
  const bodies = blocks.map((code) => splitImports(code, imports).trim());
  const lines = [
    ...imports.statements,
    ...[...imports.named].map(([module, names]) => `import { ${[...names].join(', ')} } from '${module}';`),
  ];
  return { imports: lines.join('\n'), body: [given, ...bodies.map((b) => `{\n${b}\n}`)].filter(Boolean).join('\n') };
}

/** The program as an ES module (`.mts` for tsc). */
export function esmSource(program: { imports: string; body: string }): string {
  return `${program.imports}\n\n${program.body}\n`;
}

/** The program as a CommonJS module (`.cts` for tsc): the body inside an async function. */
export function cjsSource(program: { imports: string; body: string }): string {
  // An unhandled rejection ends Node with exit code 1 and the error printed.
  return `${program.imports}\n\nvoid (async () => {\n${program.body}\n})();\n`;
}

/** Transpiles TypeScript to JavaScript for Node, as an ES module or as CommonJS. */
export function transpile(source: string, format: 'esm' | 'cjs'): string {
  return ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: format === 'esm' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
      esModuleInterop: true,
    },
  }).outputText;
}
