// The demo's tools: a search over the bundled documents, a calculator, an allow-listed fetch and an
// irreversible publish to a local outbox. Each is a plain Baton tool: validated arguments, an effect
// the engine uses after a crash, and the idempotency key honoured where it matters.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { NonRetryableError, tool } from 'baton';

export interface DemoToolsOptions {
  documentsDir: string;
  outboxDir: string;
  /** Origins the fetch tool may reach; anything else is refused. */
  allowedOrigins: readonly string[];
}

export async function createTools(options: DemoToolsOptions) {
  const documents = await loadDocuments(options.documentsDir);

  const search = tool({
    name: 'docs.search',
    description: 'Search the briefing documents. Returns the best matching passages with their source.',
    input: z.object({ query: z.string().min(2), limit: z.number().int().min(1).max(5).default(3) }),
    effect: 'read',
    execute: ({ query, limit }) => rank(documents, query).slice(0, limit),
  });

  const calculator = tool({
    name: 'calc',
    description: 'Evaluate an arithmetic expression (+ - * / and parentheses), e.g. "(0.61-0.24)*60000".',
    input: z.object({ expression: z.string().max(200) }),
    effect: 'read',
    execute: ({ expression }) => ({ expression, value: evaluate(expression) }),
  });

  const fetchTool = tool({
    name: 'web.fetch',
    description: 'Fetch a JSON or text resource over HTTP. Only allow-listed origins can be reached.',
    input: z.object({ url: z.string().url() }),
    effect: 'read',
    execute: async ({ url }, context) => {
      const origin = new URL(url).origin;
      if (!options.allowedOrigins.includes(origin)) {
        throw new NonRetryableError(
          `${origin} is not on the fetch allow-list (${options.allowedOrigins.join(', ')}).`,
        );
      }
      const response = await fetch(url, { signal: context.signal });
      const text = await response.text();
      if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
      return { url, status: response.status, body: text.slice(0, 4000) };
    },
  });

  const publish = tool({
    name: 'outbox.publish',
    description: 'Publish the final brief. Irreversible: readers receive it at once.',
    input: z.object({ title: z.string().min(3).max(120), body: z.string().min(20) }),
    effect: 'irreversible',
    idempotent: true,
    execute: async ({ title, body }, context) => {
      // The idempotency key names the file: publishing again after a crash changes nothing.
      await mkdir(options.outboxDir, { recursive: true });
      const file = join(options.outboxDir, `${context.idempotencyKey.replace(/[^\w.-]/g, '_')}.md`);
      try {
        await writeFile(file, `# ${title}\n\n${body}\n`, { flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      return { published: true, file };
    },
  });

  return { search, calculator, fetchTool, publish };
}

interface Document {
  source: string;
  title: string;
  text: string;
}

async function loadDocuments(dir: string): Promise<Document[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.md')).sort();
  return Promise.all(
    files.map(async (file) => {
      const content = await readFile(join(dir, file), 'utf8');
      const [heading = file, ...rest] = content.trim().split('\n');
      return { source: file, title: heading.replace(/^#\s*/, ''), text: rest.join(' ').trim() };
    }),
  );
}

const STOP = new Set([
  'the',
  'a',
  'an',
  'of',
  'and',
  'or',
  'to',
  'in',
  'for',
  'is',
  'on',
  'per',
  'what',
  'how',
  'with',
]);

function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((word) => !STOP.has(word));
}

/** BM25 over the documents' title and text. */
function rank(documents: readonly Document[], query: string) {
  const terms = words(query);
  const bags = documents.map((document) => words(`${document.title} ${document.text}`));
  const average = bags.reduce((sum, bag) => sum + bag.length, 0) / Math.max(1, bags.length);
  const scored = documents.map((document, index) => {
    const bag = bags[index]!;
    let score = 0;
    for (const term of terms) {
      const frequency = bag.filter((word) => word === term).length;
      if (frequency === 0) continue;
      const containing = bags.filter((other) => other.includes(term)).length;
      const idf = Math.log(1 + (documents.length - containing + 0.5) / (containing + 0.5));
      score += (idf * frequency * 2.2) / (frequency + 1.2 * (0.25 + (0.75 * bag.length) / average));
    }
    return {
      source: document.source,
      title: document.title,
      passage: document.text,
      score: Math.round(score * 1000) / 1000,
    };
  });
  return scored.filter((hit) => hit.score > 0).sort((a, b) => b.score - a.score);
}

/** A small recursive-descent evaluator: numbers, + - * /, unary minus, parentheses. No eval. */
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/()]|\S/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];
  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw new NonRetryableError(`Missing ')' in "${expression}".`);
      return value;
    }
    if (token === '-') return -primary();
    if (token !== undefined && /^\d/.test(token)) return Number(token);
    throw new NonRetryableError(`Unexpected '${token ?? 'end'}' in "${expression}".`);
  };
  const product = (): number => {
    let value = primary();
    while (peek() === '*' || peek() === '/') value = take() === '*' ? value * primary() : value / primary();
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  const value = sum();
  if (position !== tokens.length) throw new NonRetryableError(`Unexpected '${peek()}' in "${expression}".`);
  if (!Number.isFinite(value)) throw new NonRetryableError(`"${expression}" has no finite value.`);
  return Math.round(value * 1e6) / 1e6;
}
