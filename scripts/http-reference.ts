// docs/guide/http-api.md from the server's OpenAPI document (src/server/openapi.ts), so the HTTP
// reference says what the server does. `npm run docs:generate` writes it;
// test/docs-generated-pages.test.ts fails when the committed page differs from what this would write.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { openApiDocument } from '../src/server/openapi.ts';

export const HTTP_REFERENCE = 'docs/guide/http-api.md';
const ROOT = resolve(import.meta.dirname, '..');

type Schema = Record<string, any>;

/** The Markdown of the HTTP reference, formatted as the repository formats Markdown. */
export async function httpReference(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const document = openApiDocument(pkg.version) as Schema;
  const lines: string[] = [
    '# HTTP API reference',
    '',
    '<!-- Generated from src/server/openapi.ts by `npm run docs:generate`. Do not edit by hand. -->',
    '',
    String(document.info.description).replace(/</g, '&lt;'),
    '',
    'The server serves this description itself at `GET /api/openapi.json` (OpenAPI 3.1). How to run',
    'the server and who may call it: [the HTTP server and the UI](server.md).',
    '',
    '| Method | Path | What it does |',
    '| --- | --- | --- |',
  ];
  const operations: { method: string; path: string; operation: Schema }[] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Schema>)) {
    for (const [method, operation] of Object.entries(methods)) operations.push({ method, path, operation });
  }
  for (const { method, path, operation } of operations) {
    lines.push(
      `| ${method.toUpperCase()} | [\`${path}\`](#${anchor(operation.operationId)}) | ${cell(operation.summary)} |`,
    );
  }
  for (const { method, path, operation } of operations) {
    lines.push(
      '',
      `## ${operation.operationId}`,
      '',
      `\`${method.toUpperCase()} ${path}\` — ${operation.summary}.`,
    );
    if (Array.isArray(operation.security) && operation.security.length === 0)
      lines.push('', 'No authentication.');
    const parameters = (operation.parameters ?? []) as Schema[];
    if (parameters.length > 0) {
      lines.push('', '| Parameter | In | Type | Description |', '| --- | --- | --- | --- |');
      for (const parameter of parameters) {
        lines.push(
          `| \`${parameter.name}\` | ${parameter.in} | ${cell(typeOf(parameter.schema))} | ${cell(parameter.description ?? parameter.schema?.description ?? '')} |`,
        );
      }
    }
    const body = operation.requestBody?.content?.['application/json']?.schema as Schema | undefined;
    if (body) {
      lines.push('', `Request body (JSON${operation.requestBody.required ? '' : ', optional'}):`);
      lines.push(...fieldsTable(body));
    }
    lines.push('', 'Responses:', '');
    for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
      if (status === 'default') continue;
      const schema = response.content?.['application/json']?.schema as Schema | undefined;
      const shape = schema && status.startsWith('2') ? ` — ${cell(typeOf(schema))}` : '';
      lines.push(`- **${status}** ${response.description}${shape}`);
    }
  }
  const components = (document.components?.schemas ?? {}) as Record<string, Schema>;
  lines.push(
    '',
    '## Schemas',
    '',
    'The shapes many operations share, as `components.schemas` of the OpenAPI description names them.',
  );
  for (const [name, schema] of Object.entries(components)) {
    lines.push('', `### ${name} schema`);
    if (schema.description) lines.push('', String(schema.description));
    lines.push(...fieldsTable(schema));
  }
  lines.push(
    '',
    '## Errors',
    '',
    'Every error is `{ "error": { "code": "…", "message": "…" } }` with a stable `code`; a run of',
    'another tenant answers 404, as if it did not exist.',
    '',
  );
  const options = (await resolveConfig(join(ROOT, HTTP_REFERENCE))) ?? {};
  return format(lines.join('\n'), { ...options, parser: 'markdown' });
}

function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

function cell(text: string): string {
  // A pipe typeOf already escaped stays as it is; any other is escaped.
  return text.replace(/(?<!\\)\|/g, '\\|').replace(/\n/g, ' ');
}

function fieldsTable(schema: Schema): string[] {
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (!properties) return ['', `\`${typeOf(schema)}\``];
  const required = new Set<string>(schema.required ?? []);
  const lines = ['', '| Field | Type | Required | Description |', '| --- | --- | --- | --- |'];
  for (const [name, field] of Object.entries(properties)) {
    lines.push(
      `| \`${name}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(field.description ?? '')} |`,
    );
  }
  return lines;
}

/** A short TypeScript-like rendering of a JSON Schema: `{ run: { runId: string, … }, created: boolean }`. */
function typeOf(schema: Schema | undefined, depth = 0): string {
  if (schema === undefined || Object.keys(schema).length === 0) return 'any';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').at(-1)!;
    return `[${name}](#${anchor(name)}-schema)`;
  }
  if (schema.enum) return (schema.enum as unknown[]).map((value) => JSON.stringify(value)).join(' \\| ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return union.map((member) => typeOf(member, depth)).join(' \\| ');
  switch (schema.type) {
    case 'array':
      return `${typeOf(schema.items, depth)}[]`;
    case 'integer':
      return 'integer';
    case 'object': {
      const properties = schema.properties as Record<string, Schema> | undefined;
      if (!properties) return 'object';
      if (depth >= 1) return '{ … }';
      const required = new Set<string>(schema.required ?? []);
      const fields = Object.entries(properties).map(
        ([name, field]) => `${name}${required.has(name) ? '' : '?'}: ${typeOf(field, depth + 1)}`,
      );
      return `\`{ ${fields.join(', ')} }\``.replace(/\\\|/g, '|');
    }
    default:
      return String(schema.type ?? 'any');
  }
}
