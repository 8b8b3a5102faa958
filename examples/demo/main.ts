// npm run demo — the flagship: a request is routed, researched by three agents in parallel with
// tools, drafted by a writer, stopped at a gate before an irreversible publish, approved by a
// person, then published to a local outbox. Offline by default (scripted models); set BATON_MODEL
// (e.g. openai:gpt-4.1-mini with OPENAI_API_KEY) to use a real model.
//
//   --wait-for-approval   do not approve automatically: approve yourself with the printed command
//   --fresh               start from an empty journal
import { createServer } from 'node:http';
import { rm, mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Baton, verifyChain, verifyRun, type JournalEvent } from 'baton';
import { createAgents, FLEET } from './agents.ts';
import { followRun } from './live-tree.ts';
import { createTools } from './tools.ts';
import { createBriefWorkflow } from './workflow.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: { 'wait-for-approval': { type: 'boolean' }, fresh: { type: 'boolean' } },
});
const stateDir = resolve('.baton');
const dbPath = join(stateDir, 'demo.db');
if (flags.fresh) await rm(stateDir, { recursive: true, force: true });
await mkdir(stateDir, { recursive: true });

// A local "open data" service the analyst fetches from: the only origin on the fetch allow-list.
const dataServer = createServer((request, response) => {
  if (request.url === '/fleet.json') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(FLEET));
  } else response.writeHead(404).end('not found');
});
await new Promise<void>((done) => dataServer.listen(0, '127.0.0.1', done));
const dataOrigin = `http://127.0.0.1:${(dataServer.address() as { port: number }).port}`;

const tools = await createTools({
  documentsDir: join(here, 'documents'),
  outboxDir: join(stateDir, 'outbox'),
  allowedOrigins: [dataOrigin],
});
const agents = createAgents(tools, dataOrigin);
const brief = createBriefWorkflow(agents);

const baton = await Baton.open({
  store: `sqlite:${dbPath}`,
  workflows: [brief],
  // Ed25519 checkpoints of the chain head as runs finish; the key is kept in .baton/keys.
  signing: { keyDirectory: join(stateDir, 'keys') },
  guard: {
    approvals: { gates: { irreversible: true } },
    loops: {},
    budgets: { run: { usd: 5, modelCalls: 60 } },
  },
});

const offline = !process.env.BATON_MODEL;
console.log(
  offline
    ? 'Model: offline scripted models (set BATON_MODEL=openai:gpt-4.1-mini and OPENAI_API_KEY for a real one).'
    : `Model: ${process.env.BATON_MODEL}`,
);
const request =
  'Should the city switch its diesel bus fleet to battery-electric buses? Give costs, savings and risks.';
console.log(`Request: ${request}\n`);

const started = Date.now();
const run = await baton.start(brief, { request }, { as: 'user:alice' });
const tree = followRun(baton, run.runId, (line) => console.log(line));

// The gate: the run parks before the irreversible publish, holding no worker, until a person decides.
const approver = (async () => {
  for (;;) {
    const pending = (await baton.approvals({})).filter((approval) => approval.runId === run.runId);
    const first = pending[0];
    if (first) {
      const command = `npm run baton -- approve ${run.runId} ${first.approvalId} --as user:editor --store sqlite:${relative(process.cwd(), dbPath)}`;
      if (flags['wait-for-approval']) {
        console.log(`\n  The run is parked. Approve it from another terminal:\n    ${command}\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 700));
      console.log(
        `      (the run is parked and holds no worker; approving as user:editor, as a person would with:`,
      );
      console.log(`       ${command.replace(/ --store.*/, '')})`);
      await baton.approve(run.runId, first.approvalId, {
        as: 'user:editor',
        comment: 'Figures checked; publish.',
      });
      return;
    }
    const current = await baton.getRun(run.runId);
    if (['completed', 'failed', 'cancelled'].includes(current.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
})();

let failed = false;
let result: unknown;
try {
  result = await run.result();
} catch (error) {
  failed = true;
  console.error(`\nThe run failed: ${(error as Error).message}`);
}
await approver;
await tree.stop();

// The summary, read back from the journal of the run and its children.
const events = await run.history();
const count = (type: string) => events.filter((event) => event.type === type).length;
const llm = events.filter((event): event is JournalEvent<'llm.called'> => event.type === 'llm.called');
const tokensIn = llm.reduce((sum, event) => sum + event.payload.usage.inputTokens, 0);
const tokensOut = llm.reduce((sum, event) => sum + event.payload.usage.outputTokens, 0);
const cost = llm.reduce((sum, event) => sum + event.payload.cost.usd, 0);
const chain = verifyChain(events);
// Signing happens as the run finishes, off the run's path: let it finish before checking.
await baton.signer?.flush();
const signature = baton.signer
  ? await verifyRun(baton.store, run.runId, baton.signer.key.publicKey)
  : undefined;
const outbox =
  (result as { receipt?: unknown } | undefined) && join(relative(process.cwd(), stateDir), 'outbox');

if (!failed) {
  console.log(`\n${(result as { draft: string }).draft}\n`);
}
console.log('Summary');
console.log(
  `  run            ${run.runId} (${failed ? 'failed' : 'completed'} in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
console.log(
  `  journal        ${events.length} events, hash chain ${chain.ok ? 'verified' : `BROKEN at seq ${chain.broken?.seq}`}`,
);
console.log(
  `  signature      ${signature?.signedSeq ? `Ed25519 checkpoint through seq ${signature.signedSeq}, key ${baton.signer?.key.keyId}` : 'none'}`,
);
console.log(
  `  agents         ${count('agent.started')} runs, ${llm.length} model calls, ${count('tool.called')} tool calls`,
);
console.log(
  `  tokens         ${tokensIn} in, ${tokensOut} out${offline ? ' (scripted model: estimated)' : ''}`,
);
console.log(`  cost           $${cost.toFixed(4)}${offline ? ' (offline models are free)' : ''}`);
console.log(`  approvals      ${count('approval.decided')} decided`);
console.log(`  published to   ${outbox}/`);
console.log(`  journal file   ${relative(process.cwd(), dbPath)}`);
console.log('\nExplore it:');
const store = `--store sqlite:${relative(process.cwd(), dbPath)}`;
console.log(`  npm run baton -- explain ${run.runId} ${store}`);
console.log(`  npm run baton -- history ${run.runId} ${store}`);
console.log(
  `  npm run baton -- verify ${run.runId} ${store} --key ${join(relative(process.cwd(), stateDir), 'keys', 'checkpoint-ed25519.pem')}`,
);
const ui = await uiUrl(run.runId);
if (ui) console.log(`  ${ui}`);

await baton.close();
dataServer.close();
process.exitCode = failed ? 1 : 0;

/** The run's page in the web UI, when a `baton server` is listening (BATON_SERVER_URL, or the default port). */
async function uiUrl(runId: string): Promise<string | undefined> {
  const base = process.env.BATON_SERVER_URL ?? 'http://127.0.0.1:4000';
  try {
    const response = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(300) });
    if (!response.ok) return undefined;
    return `${base}/runs/${runId}`;
  } catch {
    return undefined;
  }
}
