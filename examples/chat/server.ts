// node --conditions=baton-source examples/chat/server.ts [port]
//
// A Baton server for the chat app: the HTTP API (with /api/chat for useChat) and the built app
// (dist/, `npx vite build examples/chat`), a worker, and a SQLite store. In your project, import
// from 'baton' and 'baton/server' instead of the sources.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Baton } from '../../src/index.ts';
import { createServer, serve, uiAssets, type RunningServer } from '../../src/server/index.ts';
import { chatWorkflow } from './workflow.ts';

/** The visitor's API token (a real app hands each signed-in user a token or a JWT). */
export const VISITOR_TOKEN = 'chat-visitor-token-0123456789';

export interface ChatServer {
  url: string;
  baton: Baton;
  close(): Promise<void>;
}

/** Starts the chat server on `port` (0 picks one), serving the app built in `dist`. */
export async function startChatServer(
  options: { port?: number; dist?: string; store?: string } = {},
): Promise<ChatServer> {
  const store = options.store ?? `sqlite:${join(await mkdtemp(join(tmpdir(), 'baton-chat-')), 'chat.db')}`;
  const baton = await Baton.open({
    store,
    workflows: [chatWorkflow()],
    guard: { approvals: { gates: { irreversible: true } } },
    worker: { pollMs: 20 },
  });
  const api = await createServer(baton, {
    auth: { tokens: { [VISITOR_TOKEN]: { principal: 'user:visitor' } } },
    assets: uiAssets(options.dist ?? resolve(import.meta.dirname, 'dist')),
  });
  // A conversation is a run, started for the visitor by the desk's service (so the visitor may
  // approve what the desk asks: nobody approves a request made for themselves).
  api.app.post('/demo/conversations', async (c) => {
    const run = await baton.start('chat', {}, { as: 'service:chat-desk' });
    return c.json({ runId: run.runId });
  });
  const running: RunningServer = await serve(api, { port: options.port ?? 0 });
  return {
    url: running.url,
    baton,
    async close() {
      await running.close();
      await baton.close();
    },
  };
}

if (import.meta.main) {
  const server = await startChatServer({ port: Number(process.argv[2] ?? 4100) });
  console.log(`Chat on ${server.url}`);
}
