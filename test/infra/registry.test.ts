/**
 * The registry is the one list the CDK app deploys from: every entry must exist and export `handler`
 * (the name `LeadrouterFunction` configures), and its triggers must be wireable.
 *
 * The export is checked on the module's syntax tree, not by importing it: importing a handler runs its
 * cold-start code (config that fails fast without AWS environment variables).
 */
import { existsSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { handlers, type HandlerDefinition } from '../../functions/registry.js';
import { entryPath } from '../../lib/bundling.js';
import { parseRouteKey } from '../../lib/ingest-api.js';

const entries = Object.entries(handlers) as [string, HandlerDefinition][];

function hasExport(modifiers: ts.NodeArray<ts.ModifierLike> | undefined): boolean {
  return modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
}

/** Whether the module source declares or re-exports a binding named `handler`. */
function exportsHandler(source: string, fileName: string): boolean {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  return file.statements.some((statement) => {
    if (ts.isVariableStatement(statement) && hasExport(statement.modifiers)) {
      return statement.declarationList.declarations.some(
        (d) => ts.isIdentifier(d.name) && d.name.text === 'handler',
      );
    }
    if (ts.isFunctionDeclaration(statement) && hasExport(statement.modifiers)) {
      return statement.name?.text === 'handler';
    }
    if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      return statement.exportClause.elements.some((e) => e.name.text === 'handler');
    }
    return false;
  });
}

describe('functions/registry.ts', () => {
  it.each(entries)('%s: the entry exists and exports `handler`', (name, definition) => {
    // Prepare
    const file = entryPath(definition.entry);
    // Assess
    expect(existsSync(file), `registry entry "${name}": ${definition.entry} does not exist`).toBe(true);
    expect(
      exportsHandler(readFileSync(file, 'utf8'), file),
      `registry entry "${name}": ${definition.entry} does not export "handler"`,
    ).toBe(true);
  });

  it('recognises the export forms a handler module may use', () => {
    expect(exportsHandler('export const handler = async () => 1;', 'a.ts')).toBe(true);
    expect(exportsHandler('export async function handler() {}', 'a.ts')).toBe(true);
    expect(exportsHandler('const h = 1; export { h as handler };', 'a.ts')).toBe(true);
    expect(exportsHandler("export { handler } from './x.js';", 'a.ts')).toBe(true);
    expect(exportsHandler('export const main = 1; const handler = 2;', 'a.ts')).toBe(false);
  });

  it('gives every HTTP route as "<METHOD> /path"', () => {
    for (const [, definition] of entries) {
      if (definition.trigger.kind !== 'http') continue;
      for (const route of definition.trigger.routes) expect(() => parseRouteKey(route)).not.toThrow();
    }
  });

  it('has exactly one handler for each trigger the stack wires once', () => {
    const count = (predicate: (d: HandlerDefinition) => boolean) =>
      entries.filter(([, d]) => predicate(d)).length;
    expect(count((d) => d.trigger.kind === 'sqs')).toBe(1);
    expect(count((d) => d.trigger.kind === 'websocket-authorizer')).toBe(1);
    expect(count((d) => d.trigger.kind === 'custom-resource')).toBe(1);
    for (const route of ['$connect', '$disconnect', '$default']) {
      expect(
        count((d) => d.trigger.kind === 'websocket' && d.trigger.route === route),
        route,
      ).toBe(1);
    }
  });
});
