// What the demo's program (main.ts) and its config (baton.config.ts) share: where its journal lives,
// its local data service, and the workflow with its agents, tools, guard and signing. The CLI loads
// the config, so `npm run baton -- replay|fork|worker|explain <run>` work on the demo's runs.
import { createServer, type Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GuardOptions } from 'baton/guard';
import type { SigningOptions } from 'baton/access';
import { createAgents, FLEET } from './agents.ts';
import { createTools } from './tools.ts';
import { createBriefWorkflow } from './workflow.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The demo's state (journal, keys, outbox): BATON_DEMO_DIR, else examples/demo/.baton. */
export function demoStateDir(): string {
  return resolve(process.env.BATON_DEMO_DIR || join(here, '.baton'));
}

export interface DataService {
  origin: string;
  close(): void;
}

/**
 * A local "open data" service the analyst fetches from: the only origin on the fetch allow-list.
 * `background` lets the process end while it listens (the CLI's config starts one).
 */
export async function startDataService(options: { background?: boolean } = {}): Promise<DataService> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/fleet.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(FLEET));
    } else response.writeHead(404).end('not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  if (options.background) server.unref();
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => server.close(),
  };
}

/** The demo's workflow and the Baton options it runs with (the same in main.ts and the config). */
export async function createDemo(dataOrigin: string) {
  const stateDir = demoStateDir();
  const tools = await createTools({
    documentsDir: join(here, 'documents'),
    outboxDir: join(stateDir, 'outbox'),
    allowedOrigins: [dataOrigin],
  });
  const brief = createBriefWorkflow(createAgents(tools, dataOrigin));
  const guard: GuardOptions = {
    approvals: { gates: { irreversible: true } },
    loops: {},
    budgets: { run: { usd: 5, modelCalls: 60 } },
  };
  // Ed25519 checkpoints of the chain head as runs finish; the key is kept beside the journal.
  const signing: SigningOptions = { keyDirectory: join(stateDir, 'keys') };
  return { stateDir, dbPath: join(stateDir, 'demo.db'), brief, guard, signing };
}
