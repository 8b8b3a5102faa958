#!/usr/bin/env node
// The `baton` command. Runs the built CLI (dist/) when there is one; from a checkout without a build,
// it runs the TypeScript sources directly (Node >= 22.18 strips types), resolving `import … from 'baton'`
// in baton.config.ts to those sources too.
// Builtins through getBuiltinModule, not `import`: an ES module facade of node:fs costs a few ms
// more (every export is read), and `baton --help` should cost little more than Node itself.
const { existsSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');

// V8's compiled code for Baton's modules is kept on disk (Node's compile cache, in the temp
// directory or NODE_COMPILE_CACHE), so a command starts without compiling them again.
module.enableCompileCache?.();

const built = new URL('../dist/cli/main.js', import.meta.url);
let entry = built;
if (!existsSync(built)) {
  await import('./source-hooks.js');
  entry = new URL('../src/cli/main.ts', import.meta.url);
}
const { runAsProcess } = await import(entry.href);
await runAsProcess(process.argv.slice(2));
