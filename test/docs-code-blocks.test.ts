import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docPages,
  extractBlocks,
  extractLinks,
  headingAnchors,
  inlineCliMentions,
  isModuleBlock,
  pageLine,
  readPage,
  type DocBlock,
} from './support/doc-blocks.ts';
import {
  checkInvocation,
  cliInvocations,
  ensureScratch,
  ROOT,
  runBlock,
  shellWords,
  typecheckBlocks,
} from './support/doc-check.ts';

// Every code block of README.md, docs/** and examples/**/README.md is checked, so the docs cannot rot:
// ```ts blocks typecheck as modules, `// @run` blocks also run, and CLI lines name real commands and
// options. How to write them: docs/README.md, "Writing these docs".

const pages = docPages(ROOT);
const blocksByPage = new Map(pages.map((page) => [page, extractBlocks(page, readPage(ROOT, page))]));
const blocks = [...blocksByPage.values()].flat();
const runnable = blocks.filter((block) => isModuleBlock(block) && block.run);

beforeAll(() => ensureScratch());

afterAll(() => rm(join(ROOT, '.docs-run'), { recursive: true, force: true }));

// One TypeScript program checks the checker's own sample page and every page of the docs.
let typechecked: string[] | undefined;
function typeProblems(): { sample: string[]; docs: string[] } {
  typechecked ??= typecheckBlocks([...sample, ...blocks]);
  const inSample = (problem: string) => problem.startsWith(`${SAMPLE}:`);
  return { sample: typechecked.filter(inSample), docs: typechecked.filter((problem) => !inSample(problem)) };
}

const samplePage = [
  '# A page',
  '',
  '```ts',
  "import { workflow } from 'baton';",
  "export const w = workflow('w', async (_ctx, input: { n: number }) => input.n + 1);",
  'const wrong: string = 42;',
  '```',
  '',
  '```ts fragment',
  'await ctx.step(…)',
  '```',
  '',
  '```sh',
  'baton runs --status waiting --bogus',
  '```',
].join('\n');
const SAMPLE = 'checker-sample.md';
const sample = extractBlocks(SAMPLE, samplePage);

describe('the checker itself', () => {
  it('finds blocks, their tags and lines', () => {
    expect(sample.map((block) => [block.lang, block.attributes, block.line])).toEqual([
      ['ts', [], 4],
      ['ts', ['fragment'], 10],
      ['sh', [], 14],
    ]);
    expect(sample.filter(isModuleBlock)).toHaveLength(1);
  });

  it('names the page and line of a type error, and leaves fragments alone', () => {
    const problems = typeProblems().sample;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^checker-sample\.md:6: TS2322 /);
  }, 240_000);

  it('finds relative links outside code, and the anchors headings make', () => {
    const text =
      '# Durable steps\n\nSee [retries](steps.md#retries), [web](https://example.com) and `[no](x.md)`.\n\n```md\n[no](y.md)\n```\n\n## `ctx.step(name, fn)`\n';
    expect(extractLinks('docs/a.md', text)).toEqual([
      { file: 'docs/a.md', line: 3, target: 'steps.md#retries' },
    ]);
    expect([...headingAnchors(text)]).toEqual(['durable-steps', 'ctxstepname-fn']);
  });

  it('finds CLI invocations in inline code', () => {
    const text =
      'Run `baton runs --status waiting`, or `npm run baton -- show <run>`.\n```\n`baton nope`\n```\n';
    expect(inlineCliMentions('docs/a.md', text).map((mention) => [mention.line, mention.command])).toEqual([
      [1, 'baton runs --status waiting'],
      [1, 'npm run baton -- show <run>'],
    ]);
  });

  it('refuses an unknown CLI option and an unknown command', async () => {
    const [invocation] = cliInvocations(sample[2]!);
    expect(await checkInvocation(invocation!.args)).toBe("'baton runs' has no option --bogus");
    expect(await checkInvocation(['rnus'])).toMatch(/no command 'rnus'/);
    expect(await checkInvocation(['runs', '--status', 'waiting', '--json'])).toBeUndefined();
  });
});

// Pages other engineers are writing on their branches; until they land, a link to one is not broken.

describe('the docs', () => {
  it('link to pages and headings that exist', () => {
    const problems: string[] = [];
    for (const page of pages) {
      for (const link of extractLinks(page, readPage(ROOT, page))) {
        const [path = '', anchor] = link.target.split('#');
        const target = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
        if (!existsSync(join(ROOT, target))) {
          problems.push(`${page}:${link.line}: no file ${target}`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !headingAnchors(readPage(ROOT, target)).has(anchor))
          problems.push(`${page}:${link.line}: no heading #${anchor} in ${target}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('have pages and code blocks to check', () => {
    expect(pages).toContain('README.md');
    expect(blocks.filter(isModuleBlock).length).toBeGreaterThan(0);
  });

  it('every ```ts block typechecks as a module (one program for all)', () => {
    const problems = typeProblems().docs;
    expect(problems, problems.join('\n')).toEqual([]);
  }, 240_000);

  it('every CLI line names a command and options the CLI has', async () => {
    const problems: string[] = [];
    for (const block of blocks.filter((candidate) =>
      ['sh', 'bash', 'shell', 'console'].includes(candidate.lang),
    )) {
      for (const { codeLine, args } of cliInvocations(block)) {
        const problem = await checkInvocation(args);
        if (problem) problems.push(`${pageLine(block, codeLine)}: ${problem}`);
      }
    }
    for (const page of pages) {
      for (const mention of inlineCliMentions(page, readPage(ROOT, page))) {
        const args = shellWords(mention.command.replace(/^(?:baton|npx baton|npm run baton --)\s+/, ''));
        const problem = await checkInvocation(args);
        if (problem) problems.push(`${page}:${mention.line}: ${problem}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

// Two at a time: the machine's cores are shared.
let running = 0;
const queue: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    queue.shift()?.();
  }
}

describe.concurrent('every // @run block runs and exits 0', () => {
  it('finds // @run blocks in the guide', () => {
    expect(runnable.length).toBeGreaterThan(0);
  });
  for (const block of runnable) {
    it(
      pageLine(block, 0),
      async () => {
        const problem = await slot(() => runBlock(block, blocksByPage.get(block.file) as DocBlock[]));
        expect(problem, problem).toBeUndefined();
      },
      300_000,
    );
  }
});
