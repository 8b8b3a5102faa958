import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The root of the package, 'baton', exports the names a workflow author writes in ordinary code and
// nothing else (docs/decisions/0028); everything else sits behind a subpath. The list is pinned here
// so a name added to the root shows in review as a line of this test, not only in api/baton.api.md.
// Every error class any entry point exports is also in 'baton/errors'.

const ROOT = resolve(import.meta.dirname, '..');

/** The names an entry point's source exports, read from its syntax: it holds only named re-exports. */
async function exportedNames(file: string): Promise<string[]> {
  const source = ts.createSourceFile(file, await readFile(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    const clause = statement.exportClause;
    if (clause === undefined || !ts.isNamedExports(clause))
      throw new Error(`${file}: \`export *\` hides what is public`);
    names.push(...clause.elements.map((element) => element.name.text));
  }
  return names.sort();
}

async function entryPoints(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { 'baton-source'?: string }>;
  };
  return Object.values(manifest.exports).flatMap((target) =>
    typeof target === 'string' || target['baton-source'] === undefined ? [] : [target['baton-source']],
  );
}

describe("the public surface of 'baton'", () => {
  it('exports the names a workflow author writes: 50, listed here', async () => {
    const names = await exportedNames('src/index.ts');
    expect(names).toEqual(
      [
        // Baton and its runs; the config helper.
        ...['Baton', 'BatonOptions', 'RunHandle', 'StartOptions', 'RunRecord', 'RunStatus'],
        ...['defineConfig', 'BatonConfig'],
        // Workflows and their context.
        ...['workflow', 'AgentContext', 'WorkflowContext', 'WorkflowDefinition', 'WorkflowOptions'],
        ...['StepOptions', 'WaitOptions', 'ChildOptions', 'RetryPolicy', 'Duration'],
        // Agents and tools.
        ...['agent', 'AgentDefinition', 'AgentOptions', 'runAgent', 'callTool', 'mcp'],
        ...['tool', 'ToolDefinition', 'ToolOptions', 'ToolContext', 'ToolEffect'],
        // Patterns and plans.
        ...['sequential', 'route', 'parallel', 'graph', 'graphWorkflow', 'machine', 'machineWorkflow'],
        ...['plan', 'planWorkflow', 'planSchema'],
        // The errors a workflow or its caller catches.
        ...['BatonError', 'NonRetryableError', 'StepFailedError', 'WaitTimeoutError', 'CancelledError'],
        ...['RunFailedError', 'RunTimeoutError', 'RunCancelledError', 'OverloadedError'],
        ...['InvalidArgumentError', 'TripwireTriggeredError'],
      ].sort(),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeLessThanOrEqual(60);
  });

  it("keeps every BatonError class of every entry point in 'baton/errors', the same class", async () => {
    const errors = (await import('../src/errors/index.ts')) as Record<string, unknown>;
    const { BatonError } = errors as { BatonError: abstract new (...args: never[]) => Error };
    const entries = await entryPoints();
    expect(entries).toContain('./src/errors/index.ts');
    const found: string[] = [];
    const missing: string[] = [];
    for (const entry of entries) {
      const module = (await import(`../${entry.replace(/^\.\//, '')}`)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (typeof value !== 'function' || !(value.prototype instanceof BatonError)) continue;
        found.push(name);
        if (errors[name] !== value) missing.push(`${name} (${entry})`);
      }
    }
    expect(missing).toEqual([]);
    // Read at run time, so the check saw the classes (one that read nothing would pass anything).
    expect(found).toEqual(
      expect.arrayContaining(['WaitTimeoutError', 'ApprovalExpiredError', 'GraphFailedError']),
    );
    // The subpath holds those classes, BatonError and their two types only.
    const names = await exportedNames('src/errors/index.ts');
    expect(names.filter((name) => !found.includes(name))).toEqual([
      'BatonError',
      'ErrorDisposition',
      'SerializedError',
    ]);
  });
});
