import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One fenced code block of a Markdown page.
 * - `lang` is the first word of the info string (` ```ts `), `attributes` the words after it
 *   (` ```ts fragment ` → ['fragment']).
 * - `line` is the 1-based line of the block's first code line in `file`.
 * - `directives` are the leading `// @run` and `// @file <name>` comment lines of a ts block.
 */
export interface DocBlock {
  file: string;
  line: number;
  lang: string;
  attributes: string[];
  code: string;
  run: boolean;
  fileName: string | undefined;
}

/** The Markdown pages whose code blocks are checked: README.md, docs/**, examples/** /README.md. */
export function docPages(root: string): string[] {
  const pages = ['README.md'];
  const walk = (dir: string, keep: (name: string) => boolean): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) {
        // docs/api is generated from the TSDoc, whose examples are fragments by nature.
        if (path !== join('docs', 'api')) walk(path, keep);
      } else if (keep(name)) pages.push(path);
    }
  };
  walk('docs', (name) => name.endsWith('.md'));
  walk('examples', (name) => name === 'README.md');
  return pages;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/;

/** Every fenced code block of one Markdown text (CommonMark fences, backticks or tildes). */
export function extractBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length; end++) {
      const line = lines[end]!;
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const [lang = '', ...attributes] = info.trim().split(/\s+/).filter(Boolean);
    const directives = leadingDirectives(body);
    blocks.push({
      file,
      line: index + 2,
      lang,
      attributes,
      code: body.join('\n') + '\n',
      run: directives.run,
      fileName: directives.fileName,
    });
    index = end;
  }
  return blocks;
}

function leadingDirectives(body: readonly string[]): { run: boolean; fileName: string | undefined } {
  let run = false;
  let fileName: string | undefined;
  for (const line of body) {
    const directive = /^\/\/ @(run|file)\b\s*(\S*)\s*$/.exec(line.trim());
    if (!directive) break;
    if (directive[1] === 'run') run = true;
    else fileName = directive[2] || undefined;
  }
  return { run, fileName };
}

/** A ts block that must be a complete module: ```ts or ```typescript, not marked `fragment`. */
export function isModuleBlock(block: DocBlock): boolean {
  return (block.lang === 'ts' || block.lang === 'typescript') && !block.attributes.includes('fragment');
}

/** Where a block's code line (0-based) sits in its page, for messages: `docs/guide/x.md:42`. */
export function pageLine(block: DocBlock, codeLine: number): string {
  return `${block.file}:${block.line + codeLine}`;
}

/** The module file a block becomes: its `// @file` name, or one named after its page and line. */
export function blockFileName(block: DocBlock): string {
  return block.fileName ?? `block-${block.line}.ts`;
}

/** A folder name for a page: `docs/guide/steps.md` → `docs--guide--steps`. */
export function pageFolder(file: string): string {
  return file.replace(/\.md$/, '').split(/[\\/]/).join('--');
}

export function readPage(root: string, file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

/** A relative link of a Markdown page: `[text](guide/steps.md#retries)`. */
export interface DocLink {
  file: string;
  line: number;
  target: string;
}

/** The relative links of a page, outside code blocks and inline code (web and mail links left out). */
export function extractLinks(file: string, text: string): DocLink[] {
  const links: DocLink[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence !== undefined) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ file, line: index + 1, target });
    }
  });
  return links;
}

/** The anchors of a page's headings, as GitHub makes them (`## Steps in parallel` → `steps-in-parallel`). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fence = !fence;
    const heading = fence ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    anchors.add(seen === 0 ? base : `${base}-${seen}`);
  }
  return anchors;
}

/** Inline code in prose that is a CLI invocation: `` `baton approve <run> <approval> --as user:bob` ``. */
export function inlineCliMentions(
  file: string,
  text: string,
): { file: string; line: number; command: string }[] {
  const found: { file: string; line: number; command: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence !== undefined) return;
    for (const match of line.matchAll(/`((?:baton|npx baton|npm run baton --) [^`]+)`/g))
      found.push({ file, line: index + 1, command: match[1]! });
  });
  return found;
}
