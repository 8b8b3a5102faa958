// node --conditions=baton-source examples/planned-research/main.ts ["your request"]
//
// A request is planned at run time: a planner agent turns it into a task graph (one research task
// per aspect the request asks about, then a brief), Baton checks the plan, routes each research task
// by capability, runs them in parallel, and re-plans when the statistics service is down, keeping
// what finished. A review loop (review → revise, at most twice) then approves the brief. Offline by
// default (scripted models); set BATON_MODEL (e.g. openai:gpt-4.1-mini) to use a real model.
import { createServer } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Baton } from 'baton';
import { explainEvents, formatExplanation, formatPlans, plansOf } from 'baton/explain';
import { verifyChain } from 'baton/access';
import { createResearch } from './research.ts';

const stateDir = resolve('.baton');
await rm(join(stateDir, 'planned-research.db'), { force: true });
await mkdir(stateDir, { recursive: true });

// The live statistics service, down for maintenance: the plan's 'fleet' task fails and is re-planned.
const statistics = createServer((_request, response) => response.writeHead(503).end('maintenance'));
await new Promise<void>((done) => statistics.listen(0, '127.0.0.1', done));
const statisticsUrl = `http://127.0.0.1:${(statistics.address() as { port: number }).port}/fleet.json`;

const flow = createResearch({ statisticsUrl });
const baton = await Baton.open({
  store: `sqlite:${join(stateDir, 'planned-research.db')}`,
  workflows: [flow],
});
const request =
  process.argv[2] ??
  'Should the city buy battery buses? Compare their costs and emissions, and name the risks.';
console.log(process.env.BATON_MODEL ? `Model: ${process.env.BATON_MODEL}` : 'Model: offline scripted models');
console.log(`Request: ${request}\n`);
try {
  const run = await baton.start(flow, { request }, { as: 'user:alice' });
  const result = await run.result({ timeout: '2m' });
  const history = await run.history();
  console.log(formatPlans(plansOf(history)));
  console.log('\nWhy (from the journal):');
  const why = formatExplanation(explainEvents(history), { width: 110 })
    .split('\n')
    .filter((line) =>
      /plan research|replaces|→ (library|writer|statistics)|machine review|state /.test(line),
    );
  for (const line of why) console.log(line);
  console.log(`\n${String(result.brief)}`);
  const chain = verifyChain(history);
  console.log(
    `\n${history.length} events, hash chain ${chain.ok ? 'verified' : `BROKEN: ${JSON.stringify(chain.broken)}`}`,
  );
  console.log(`Run ${run.runId}: baton graph ${run.runId} / baton explain ${run.runId}`);
} finally {
  await baton.close();
  statistics.close();
}
