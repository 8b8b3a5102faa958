import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type * as Cedar from '@cedar-policy/cedar-wasm/nodejs';
import { lazyModule } from '../lazy-module.ts';
import { PolicyLoadError, type PolicyProblem } from './access-errors.ts';

/** Cedar's WebAssembly build, loaded when policies are first parsed or evaluated. */
const cedar = lazyModule<typeof Cedar>('@cedar-policy/cedar-wasm/nodejs');

/** A policy file's text and the name it is reported under. */
export interface PolicyText {
  /** Shown in errors and in policy ids (`policies/support.cedar`). */
  name: string;
  text: string;
}

/** One policy, its id and where it was written. */
export interface LoadedPolicy {
  id: string;
  text: string;
  file: string;
  line: number;
  /** Character index of the policy in its file. */
  offset: number;
  effect: 'permit' | 'forbid';
}

/**
 * Splits policy files into policies with ids: the policy's `@id("…")` annotation when it has one,
 * otherwise `<file name>:<line>`. A file that does not parse is reported with file, line and column.
 */
export function splitPolicies(sources: readonly PolicyText[]): LoadedPolicy[] {
  const problems: PolicyProblem[] = [];
  const policies: LoadedPolicy[] = [];
  const ids = new Map<string, LoadedPolicy>();
  for (const source of sources) {
    const parsed = cedar().checkParsePolicySet({ staticPolicies: source.text });
    if (parsed.type === 'failure') {
      problems.push(...parsed.errors.map((error) => problemAt(source, 0, error)));
      continue;
    }
    const parts = cedar().policySetTextToParts(source.text);
    if (parts.type === 'failure') {
      problems.push(...parts.errors.map((error) => problemAt(source, 0, error)));
      continue;
    }
    if (parts.policy_templates.length > 0) {
      problems.push({
        file: source.name,
        line: undefined,
        column: undefined,
        message: 'policy templates are not supported; write static policies',
      });
    }
    let cursor = 0;
    for (const text of parts.policies) {
      const found = source.text.indexOf(text, cursor);
      const offset = found < 0 ? cursor : found;
      cursor = found < 0 ? cursor : found + text.length;
      const line = lineColumn(source.text, offset).line;
      const json = cedar().policyToJson(text);
      const annotated = json.type === 'success' ? json.json.annotations?.id : undefined;
      const effect =
        json.type === 'success' ? json.json.effect : text.includes('forbid') ? 'forbid' : 'permit';
      let id = annotated ?? `${basename(source.name)}:${line}`;
      const clash = ids.get(id);
      if (clash && annotated !== undefined) {
        problems.push({
          file: source.name,
          line,
          column: 1,
          message: `policy id '${id}' is already used at ${clash.file}:${clash.line}`,
        });
        continue;
      }
      for (let n = 2; ids.has(id); n++) id = `${basename(source.name)}:${line}#${n}`;
      const policy: LoadedPolicy = { id, text, file: source.name, line, offset, effect };
      ids.set(id, policy);
      policies.push(policy);
    }
  }
  if (problems.length > 0) throw new PolicyLoadError({ problems });
  return policies;
}

/** Reads policy files; an unreadable file is a PolicyLoadError naming it. */
export async function readPolicyFiles(files: readonly string[]): Promise<PolicyText[]> {
  const problems: PolicyProblem[] = [];
  const texts: PolicyText[] = [];
  for (const file of files) {
    try {
      texts.push({ name: file, text: await readFile(file, 'utf8') });
    } catch (error) {
      problems.push({
        file,
        line: undefined,
        column: undefined,
        message: `cannot be read: ${(error as Error).message}`,
      });
    }
  }
  if (problems.length > 0) throw new PolicyLoadError({ problems });
  return texts;
}

/** Baton's own schema (src/access/baton.cedarschema). */
export function batonSchemaText(): string {
  const candidates = [
    new URL('./baton.cedarschema', import.meta.url),
    // The built package (dist/access/…) reads the schema from the shipped sources.
    new URL('../../src/access/baton.cedarschema', import.meta.url),
  ];
  for (const url of candidates) {
    try {
      return readFileSync(url, 'utf8');
    } catch {
      // try the next place
    }
  }
  throw new PolicyLoadError({
    problems: [
      {
        file: 'baton.cedarschema',
        line: undefined,
        column: undefined,
        message: 'Baton’s Cedar schema is missing from the installation',
      },
    ],
  });
}

/** Checks that a schema parses; reports its problems with line and column. */
export function checkSchema(schema: PolicyText): void {
  const parsed = cedar().checkParseSchema(schema.text);
  if (parsed.type === 'failure') {
    throw new PolicyLoadError({ problems: parsed.errors.map((error) => problemAt(schema, 0, error)) });
  }
}

/**
 * Validates the policies against the schema (Cedar's strict mode): an unknown entity type, action
 * or attribute, or a type error, is reported at its place in its file.
 */
export function validatePolicies(
  policies: readonly LoadedPolicy[],
  schema: PolicyText,
  sources: readonly PolicyText[],
): void {
  const answer = cedar().validate({
    schema: schema.text,
    policies: { staticPolicies: Object.fromEntries(policies.map((policy) => [policy.id, policy.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    throw new PolicyLoadError({ problems: answer.errors.map((error) => problemAt(schema, 0, error)) });
  }
  if (answer.validationErrors.length === 0) return;
  const byId = new Map(policies.map((policy) => [policy.id, policy]));
  const texts = new Map(sources.map((source) => [source.name, source.text]));
  throw new PolicyLoadError({
    problems: answer.validationErrors.map((failure) => {
      const policy = byId.get(failure.policyId);
      if (!policy)
        return { file: '(policies)', line: undefined, column: undefined, message: failure.error.message };
      const fileText = texts.get(policy.file) ?? policy.text;
      return {
        ...problemAt(
          { name: policy.file, text: fileText },
          Buffer.byteLength(fileText.slice(0, policy.offset)),
          failure.error,
        ),
        policyId: policy.id,
      };
    }),
  });
}

/**
 * A Cedar error as a problem at a place. Cedar's source locations are UTF-8 byte offsets into the
 * text Cedar was given, which starts at byte `base` of the file.
 */
function problemAt(source: PolicyText, base: number, error: Cedar.DetailedError): PolicyProblem {
  const location = error.sourceLocations?.[0];
  const message = [
    error.message.replace(/^failed to parse (policies|schema) from string: /, ''),
    location?.label,
    error.help,
  ]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join('; ');
  if (!location) return { file: source.name, line: undefined, column: undefined, message };
  const offset = charOffset(source.text, base + location.start);
  const { line, column } = lineColumn(source.text, offset);
  return { file: source.name, line, column, message };
}

/** The character index of a UTF-8 byte offset. */
function charOffset(text: string, byteOffset: number): number {
  return Buffer.from(text).subarray(0, byteOffset).toString().length;
}

/** 1-based line and column of a character index. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text[index] === '\n') {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
