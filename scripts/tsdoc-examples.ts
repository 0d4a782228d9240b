/**
 * Reads the TSDoc of every export of the package (root entry point) with the
 * TypeScript compiler API and returns, per export, its documentation and the
 * code of its `@example` blocks (a class's with its members'). Used by tests/docs/tsdoc-examples.test.ts to
 * check that every export is documented and to execute every example.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface ExportDoc {
  name: string;
  kind: 'value' | 'type';
  file: string;
  documentation: string;
  examples: string[];
}

function codeBlocks(text: string): string[] {
  const blocks: string[] = [];
  const re = /```(?:ts|typescript|js|javascript)?\s*\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) blocks.push(m[1] ?? '');
  return blocks;
}

export function collectExportDocs(entry = '../src/index.ts'): ExportDoc[] {
  const entryPath = fileURLToPath(new URL(entry, import.meta.url));
  const configPath = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => undefined,
  });
  const program = ts.createProgram([entryPath], { ...(config?.options ?? {}), noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryPath);
  if (!source) throw new Error(`cannot read ${entryPath}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [];
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations?.[0];
    const isValue = (symbol.flags & ts.SymbolFlags.Value) !== 0;
    const documentation = ts.displayPartsToString(symbol.getDocumentationComment(checker));
    const examplesOf = (s: ts.Symbol) =>
      s
        .getJsDocTags(checker)
        .filter((t) => t.name === 'example')
        .flatMap((t) => codeBlocks(ts.displayPartsToString(t.text)));
    // A class's methods and properties may carry their own examples: they run too.
    const members = symbol.flags & ts.SymbolFlags.Class ? [...(symbol.members?.values() ?? [])] : [];
    const examples = [...examplesOf(symbol), ...members.flatMap(examplesOf)];
    return {
      name: exported.name,
      kind: isValue ? 'value' : 'type',
      file: decl ? decl.getSourceFile().fileName.replace(fileURLToPath(new URL('../', import.meta.url)), '') : '?',
      documentation,
      examples,
    };
  });
}
