// npm run demo — the flagship: a request is routed, researched by three agents in parallel with
// tools, drafted by a writer, stopped at a gate before an irreversible publish, approved by a
// person, then published to a local outbox. Offline by default (scripted models); set BATON_MODEL
// (e.g. openai:gpt-4.1-mini with OPENAI_API_KEY) to use a real model.
//
//   --wait-for-approval   do not approve automatically: approve yourself with the printed command
//   --fresh               start from an empty journal
import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Baton } from 'baton';
import type { JournalEvent } from 'baton/journal';
import { checkModelId } from 'baton/agents';
import { verifyChain, verifyRun } from 'baton/access';
import { createDemo, demoStateDir, startDataService } from './demo.ts';
import { followRun } from './live-tree.ts';

const { values: flags } = parseArgs({
  options: { 'wait-for-approval': { type: 'boolean' }, fresh: { type: 'boolean' } },
});
// A real model needs its key only when it is called; the demo checks it before starting a run.
try {
  if (process.env.BATON_MODEL) checkModelId(process.env.BATON_MODEL);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
if (flags.fresh) await rm(demoStateDir(), { recursive: true, force: true });

const dataService = await startDataService();
const { stateDir, dbPath, brief, guard, signing } = await createDemo(dataService.origin);
await mkdir(stateDir, { recursive: true });
const baton = await Baton.open({ store: `sqlite:${dbPath}`, workflows: [brief], signing, guard });

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
      const command = `npm run baton -- approve ${run.runId} ${first.approvalId} --as user:editor`;
      if (flags['wait-for-approval']) {
        console.log(`\n  The run is parked. Approve it from another terminal:\n    ${command}\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 700));
      console.log(
        `      (the run is parked and holds no worker; approving as user:editor, as a person would with:`,
      );
      console.log(`       ${command})`);
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
// Published only if the irreversible tool actually ran: a denied approval leaves the outbox alone.
const published = events.some(
  (event) => event.type === 'tool.called' && event.payload.name === 'outbox.publish',
);
const outbox = join(relative(process.cwd(), stateDir), 'outbox');

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
console.log(
  published
    ? `  published to   ${outbox}/`
    : `  published      nothing (${count('approval.decided') > 0 ? 'the approval was denied' : 'no publish call ran'})`,
);
console.log(`  journal file   ${relative(process.cwd(), dbPath)}`);
// The repository's baton.config.ts is the demo's, so the CLI opens this journal with this workflow.
const writerStarts = events.find(
  (event) => event.type === 'agent.started' && event.payload.name === 'writer',
);
console.log('\nExplore it with the CLI (from the repository or examples/demo):');
for (const command of ['show', 'history', 'explain', 'verify', 'replay'])
  console.log(`  npm run baton -- ${command.padEnd(8)}${run.runId}`);
if (writerStarts) {
  console.log(
    `  npm run baton -- fork    ${run.runId} --at ${writerStarts.seq - 1} --instructions 'Be brief.'`,
  );
  console.log('  npm run baton -- worker  (runs the fork: a new draft, and the gate again)');
}
const ui = await uiUrl(run.runId);
if (ui) console.log(`  ${ui}`);

await baton.close();
dataService.close();
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
