import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Every export of the two entry points is a promise under semver: this test lists them (values
 * and types, with their kind) and compares the list with the checked-in report
 * `packages/core/api/exports.md`. An export that appears or disappears fails it until the report
 * is updated on purpose: `BROKERKIT_API_REPORT=update node scripts/run-tests.mjs unit`.
 */
const ENTRY_POINTS = { '@brokerkit/core': '../src/index.ts', '@brokerkit/core/driver': '../src/driver.ts' } as const;
const REPORT = fileURLToPath(new URL('../api/exports.md', import.meta.url));

function kindOf(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const flags = target.flags;
  if (flags & ts.SymbolFlags.Class) return 'class';
  if (flags & ts.SymbolFlags.Function) return 'function';
  if (flags & ts.SymbolFlags.Variable) return 'const';
  if (flags & ts.SymbolFlags.Interface) return 'interface';
  if (flags & ts.SymbolFlags.TypeAlias) return 'type';
  if (flags & ts.SymbolFlags.Enum) return 'enum';
  return 'other';
}

function surface(): string {
  const paths = Object.values(ENTRY_POINTS).map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const program = ts.createProgram(paths, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const sections = Object.entries(ENTRY_POINTS).map(([name, path]) => {
    const file = program.getSourceFile(fileURLToPath(new URL(path, import.meta.url)));
    const module = file && checker.getSymbolAtLocation(file);
    assert.ok(module, `cannot read the exports of ${name}`);
    const lines = checker
      .getExportsOfModule(module)
      .map((symbol) => `- ${kindOf(symbol, checker)} \`${symbol.getName()}\``)
      .sort((a, b) => a.localeCompare(b, 'en'));
    return `## ${name}\n\n${lines.join('\n')}\n`;
  });
  return `# Exports of @brokerkit/core\n\nChecked by \`packages/core/src/api-surface.test.ts\`; update on purpose with\n\`BROKERKIT_API_REPORT=update node scripts/run-tests.mjs unit\`.\n\n${sections.join('\n')}`;
}

describe('the public surface of @brokerkit/core', () => {
  it('is the checked-in report: no export appears or disappears by accident', async () => {
    const now = surface();
    if (process.env.BROKERKIT_API_REPORT === 'update') await writeFile(REPORT, now);
    const recorded = await readFile(REPORT, 'utf8').catch(() => '');
    assert.equal(now, recorded, 'the exports differ from packages/core/api/exports.md: if that is meant, update it (BROKERKIT_API_REPORT=update)');
  });
});
