// Writes docs/guide/errors.md from the sources: every error class the package exports that extends
// BatonError, with its stable `code`, its disposition and the first paragraph of its TSDoc. Run by
// `npm run docs:generate`; test/docs-generated-pages.test.ts fails when the committed page is stale.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import ts from 'typescript';

export const ERRORS_REFERENCE = 'docs/guide/errors.md';
const ROOT = resolve(import.meta.dirname, '..');
/** The sources of package.json "exports" (their `baton-source`): 'baton' and each subpath. */
const ENTRY_POINTS = Object.values(
  (
    JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { 'baton-source'?: string }>;
    }
  ).exports,
).flatMap((target) =>
  typeof target === 'string' || target['baton-source'] === undefined
    ? []
    : [target['baton-source'].replace(/^\.\//, '')],
);

/** Where each group of errors comes from, in the order the page lists them. */
const GROUPS: readonly [folder: string, title: string][] = [
  ['src/errors.ts', 'Runs, steps and stores'],
  ['src/agents', 'Agents, models and tools'],
  ['src/patterns', 'Patterns'],
  ['src/access', 'Identity, access and evidence'],
  ['src/guard', 'Guardrails, budgets and loops'],
  ['src/approvals', 'Approvals'],
  ['src/routing', 'Routing, cache and memory'],
  ['src/explain', 'Explain, replay and fork'],
  ['src/engine/stream-errors.ts', 'Live run streams'],
];

interface ErrorEntry {
  name: string;
  code: string;
  disposition: string;
  summary: string;
  file: string;
}

/** The Markdown of the errors reference, formatted as the repository formats Markdown. */
export async function errorsReference(): Promise<string> {
  const exported = await exportedNames();
  const entries = (await errorClasses()).filter((entry) => exported.has(entry.name));
  const lines = [
    '# Errors',
    '',
    '<!-- Generated from the sources by `npm run docs:generate`. Do not edit by hand. -->',
    '',
    'Every error Baton throws is a `BatonError` with a stable string `code` (match on it, not on the',
    'message), a `cause` when something else failed first, and a `disposition` saying what happens next:',
    '',
    '- `terminal` — trying the same thing again fails the same way;',
    '- `retryable` — try again (after `retryAfterMs`, when set); steps, tools and model calls retry',
    '  these under their retry policy;',
    '- `suspend` — the run parks and resumes by replay when woken.',
    '',
    'Match an error by its class: `BatonError.isInstance(error)` recognises any of them, and each class',
    'recognises its own (`CancelledError.isInstance(error)`, narrowed to that class), from any copy of the',
    'package (where `instanceof` fails across duplicate installs). Import any of them from `baton/errors`;',
    '`baton` exports the few a workflow or its caller catches most (`BatonError`, `NonRetryableError`,',
    '`StepFailedError`, `WaitTimeoutError`, `CancelledError`, `RunFailedError`…), and each subpath the errors',
    'of the API it holds. The CLI prints `error: <message>` (with `--json`,',
    '`{ "error": { "code", "message" } }`), and the HTTP API answers `{ "error": { "code", "message" } }`',
    'with a status that fits the code.',
  ];
  for (const [folder, title] of GROUPS) {
    const group = entries.filter((entry) => entry.file === folder || entry.file.startsWith(`${folder}/`));
    if (group.length === 0) continue;
    lines.push(
      '',
      `## ${title}`,
      '',
      '| Error | `code` | Disposition | Meaning |',
      '| --- | --- | --- | --- |',
    );
    for (const entry of group.sort((a, b) => a.name.localeCompare(b.name)))
      lines.push(`| \`${entry.name}\` | ${entry.code} | ${entry.disposition} | ${cell(entry.summary)} |`);
  }
  lines.push('');
  const options = (await resolveConfig(join(ROOT, ERRORS_REFERENCE))) ?? {};
  return format(lines.join('\n'), { ...options, parser: 'markdown' });
}

async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of ENTRY_POINTS) {
    const text = await readFile(join(ROOT, entry), 'utf8');
    for (const match of text.matchAll(/\b([A-Z]\w*Error)\b/g)) names.add(match[1]!);
  }
  return names;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/** Every class extending BatonError (directly or through another), read from the syntax trees. */
async function errorClasses(): Promise<ErrorEntry[]> {
  const found = new Map<string, ErrorEntry & { base: string }>();
  for (const file of await sourceFiles('src')) {
    const text = await readFile(join(ROOT, file), 'utf8');
    if (!text.includes('Error')) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!ts.isClassDeclaration(statement) || !statement.name) continue;
      const heritage = statement.heritageClauses?.find(
        (clause) => clause.token === ts.SyntaxKind.ExtendsKeyword,
      );
      const base = heritage?.types[0]?.expression.getText(source);
      if (!base?.endsWith('Error')) continue;
      const call = superCall(statement);
      const code = call?.arguments[0];
      const options = call?.arguments[2];
      found.set(statement.name.text, {
        name: statement.name.text,
        base,
        code: code ? codeOf(code) : '',
        disposition: dispositionOf(options?.getText(source) ?? ''),
        summary: summaryOf(statement),
        file: relative(ROOT, join(ROOT, file)),
      });
    }
  }
  const resolved: ErrorEntry[] = [];
  for (const entry of found.values()) {
    // Walk up to BatonError; a subclass without its own super(code, …) inherits its parent's code.
    let current: (ErrorEntry & { base: string }) | undefined = entry;
    let code = entry.code;
    let disposition = entry.disposition;
    while (current && current.base !== 'BatonError') {
      current = found.get(current.base);
      code ||= current?.code ?? '';
      disposition ||= current?.disposition ?? '';
    }
    if (!current || entry.name === 'BatonError') continue;
    resolved.push({ ...entry, code: code || '(varies)', disposition: disposition || 'terminal' });
  }
  return resolved;
}

/** `'RUN_TIMEOUT'` → `RUN_TIMEOUT`; `args.code ?? 'STEP_FAILED'` → `STEP_FAILED` or the failure's own. */
function codeOf(node: ts.Expression): string {
  if (ts.isStringLiteral(node)) return `\`${node.text}\``;
  if (
    ts.isBinaryExpression(node) &&
    node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken &&
    ts.isStringLiteral(node.right)
  )
    return `\`${node.right.text}\`, or the failure's own code`;
  return '';
}

/** The dispositions an options literal can give: `disposition: retryable ? 'retryable' : 'terminal'`. */
function dispositionOf(options: string): string {
  const value = /disposition:\s*([^,\n}]+)/.exec(options)?.[1] ?? '';
  return [...new Set([...value.matchAll(/'(\w+)'/g)].map((match) => match[1]!))].join(' or ');
}

function superCall(node: ts.ClassDeclaration): ts.CallExpression | undefined {
  let call: ts.CallExpression | undefined;
  const visit = (child: ts.Node): void => {
    if (call) return;
    if (ts.isCallExpression(child) && child.expression.kind === ts.SyntaxKind.SuperKeyword) call = child;
    else ts.forEachChild(child, visit);
  };
  const constructor = node.members.find(ts.isConstructorDeclaration);
  if (constructor) visit(constructor);
  return call;
}

function summaryOf(node: ts.ClassDeclaration): string {
  const comment = ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join('\n');
  const first = comment.split(/\n\s*\n/)[0] ?? '';
  return first
    .replace(/\s+/g, ' ')
    .replace(/\{@link (\w+)\}/g, '`$1`')
    .trim();
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
