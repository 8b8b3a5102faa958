import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { main } from '../../src/cli/main.ts';
import { blockFileName, isModuleBlock, pageFolder, pageLine, type DocBlock } from './doc-blocks.ts';
import { NODE } from './pinned-node.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Typechecks every module block in ONE TypeScript program (the project's compiler options, each block
 * a module of its own in a virtual folder per page, so a block may import a sibling named by
 * `// @file`). Returns one message per problem, each naming the page and line: `docs/x.md:12: …`.
 */
export function typecheckBlocks(blocks: readonly DocBlock[], root = ROOT): string[] {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force,
  };
  const files = new Map<string, { block: DocBlock; text: string }>();
  const problems: string[] = [];
  for (const block of blocks.filter(isModuleBlock)) {
    // Inside the package, so `import … from 'baton'` resolves to src/ by the package's self-reference.
    const path = join(root, '.docs-blocks', pageFolder(block.file), blockFileName(block));
    const clash = files.get(path);
    if (clash) {
      problems.push(
        `${pageLine(block, 0)}: a block named ${blockFileName(block)} is already at line ${clash.block.line}`,
      );
      continue;
    }
    files.set(path, { block, text: block.code });
  }
  const dirs = new Set([...files.keys()].map((path) => dirname(path)));
  const host = ts.createCompilerHost(options);
  const base = { ...host };
  host.fileExists = (path) => files.has(path) || base.fileExists(path);
  host.readFile = (path) => files.get(path)?.text ?? base.readFile(path);
  host.directoryExists = (path) =>
    dirs.has(path) ||
    [...dirs].some((dir) => dir.startsWith(path + '/')) ||
    (base.directoryExists?.(path) ?? true);
  host.getSourceFile = (path, language, onError, shouldCreate) => {
    const virtual = files.get(path);
    if (virtual) return ts.createSourceFile(path, virtual.text, language, true);
    return base.getSourceFile(path, language, onError, shouldCreate);
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  for (const [path, { block }] of files) {
    const source = program.getSourceFile(path);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const diagnostic of diagnostics) {
      const at =
        diagnostic.start === undefined ? 0 : source!.getLineAndCharacterOfPosition(diagnostic.start).line;
      problems.push(
        `${pageLine(block, at)}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      );
    }
  }
  return problems;
}

/**
 * Runs one `// @run` block: every module block of its page is written to a scratch folder inside the
 * package (so 'baton' resolves to src/ and `// @file` siblings import), then the block runs on the
 * pinned Node with `--conditions=baton-source`, its working directory a fresh temporary folder.
 * Resolves with a problem message, or undefined when it exited 0 in time.
 */
export async function runBlock(
  block: DocBlock,
  pageBlocks: readonly DocBlock[],
  { root = ROOT, timeoutMs = 120_000 } = {},
): Promise<string | undefined> {
  const dir = await mkdtemp(join(root, '.docs-run', `${pageFolder(block.file)}-`));
  const cwd = await mkdtemp(join(tmpdir(), 'baton-docs-'));
  try {
    for (const sibling of pageBlocks.filter(isModuleBlock)) {
      if (sibling !== block && sibling.fileName === undefined) continue;
      await writeFile(join(dir, blockFileName(sibling)), sibling.code);
    }
    const env = { ...process.env };
    for (const name of ['BATON_STORE', 'DATABASE_URL', 'BATON_MODEL', 'BATON_CONFIG']) delete env[name];
    // Node caches the compiled sources between blocks: each block loads 'baton' from src/.
    env.NODE_COMPILE_CACHE ??= join(root, 'node_modules', '.cache', 'baton-docs');
    const outcome = await new Promise<{ code: number | null; output: string; timedOut: boolean }>(
      (done, reject) => {
        const child = spawn(
          NODE,
          [
            '--conditions=baton-source',
            '--disable-warning=ExperimentalWarning',
            join(dir, blockFileName(block)),
          ],
          { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code) => {
          clearTimeout(timer);
          done({ code, output, timedOut });
        });
      },
    );
    if (outcome.timedOut)
      return `${pageLine(block, 0)}: did not exit within ${timeoutMs} ms\n${outcome.output}`;
    if (outcome.code !== 0) return `${pageLine(block, 0)}: exited with ${outcome.code}\n${outcome.output}`;
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}

export async function ensureScratch(root = ROOT): Promise<void> {
  await mkdir(join(root, '.docs-run'), { recursive: true });
}

/** The CLI invocations of a sh block: lines starting `baton `, `npx baton ` or `npm run baton -- `. */
export function cliInvocations(block: DocBlock): { codeLine: number; args: string[] }[] {
  const found: { codeLine: number; args: string[] }[] = [];
  block.code.split('\n').forEach((raw, codeLine) => {
    const line = raw.replace(/^\s*\$\s+/, '').trim();
    const match = /^(?:baton|npx baton|npm run baton --)\s+(.*)$/.exec(line);
    if (!match) return;
    found.push({ codeLine, args: shellWords(match[1]!.replace(/\s+#.*$/, '')) });
  });
  return found;
}

export function shellWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of text.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

const GLOBAL_VALUE_OPTIONS = new Set(['--config', '--store']);

/**
 * Checks one CLI invocation against the CLI's own help: the command exists and every `--flag` is
 * one of its options. Placeholders (`<run>`) and values are not checked.
 */
export async function checkInvocation(args: readonly string[]): Promise<string | undefined> {
  let name: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) index++;
    else if (!arg.startsWith('-')) {
      name = arg;
      break;
    }
  }
  // `baton <command> …` is a placeholder; `baton help [command]` is the CLI's own.
  if (name === undefined || name.startsWith('<') || name === 'help') return undefined;
  for (const command of name.split('|')) {
    const help = await helpOf(command);
    if (help === undefined) return `no command '${command}' (baton help ${command} fails)`;
    for (const arg of args) {
      const flag = /^(--[a-z][\w-]*)/.exec(arg)?.[1];
      if (flag && !new RegExp(`(^|[\\s,])${flag}\\b`, 'm').test(help))
        return `'baton ${command}' has no option ${flag}`;
    }
  }
  return undefined;
}

const helps = new Map<string, Promise<string | undefined>>();

function helpOf(command: string): Promise<string | undefined> {
  let help = helps.get(command);
  if (!help) {
    let text = '';
    const writer = { write: (chunk: string) => (text += chunk) };
    help = main(['help', command], { stdout: writer, stderr: { write: () => true } }).then((code) =>
      code === 0 ? text : undefined,
    );
    helps.set(command, help);
  }
  return help;
}
