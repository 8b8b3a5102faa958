import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthOptions } from '../../server/authenticate.ts';
import { defineCommand } from '../command.ts';
import { displayStore } from '../load-config.ts';

export const server = defineCommand({
  name: 'server',
  summary: 'Serve the HTTP API and the web UI (runs, timelines, approvals, costs) until Ctrl-C',
  options: {
    port: {
      type: 'string',
      value: 'N',
      description: "The port (default: the config's server.port, else 4000; 0 picks one)",
    },
    host: {
      type: 'string',
      value: 'address',
      description: 'The address to listen on (default 127.0.0.1: this machine only)',
    },
    worker: { type: 'boolean', description: 'Also run a worker in this process' },
  },
  details: [
    'Callers authenticate with the API tokens or JWTs of the config (server.auth); with server.policies,',
    "every action is authorized by those Cedar policies, else each caller sees its own tenant's runs only.",
    'Without server.auth, one token is made for user:local in tenant default (BATON_SERVER_TOKEN, if set,',
    'else a random one) and printed in the URL to open. The API is described at /api/openapi.json.',
    '',
    'Example:',
    '  baton server --port 4000 --worker',
  ].join('\n'),
  async run({ options, out, json, env, shutdown, openBaton, loadConfig, parseInteger }) {
    // Loaded here, not at the top: every other command starts without Hono and Cedar.
    const [{ serve, UI_DIST, uiAssets }, { createServer }, { PolicyEngine }] = await Promise.all([
      import('../../server/node.ts'),
      import('../../server/server.ts'),
      import('../../access/policy-engine.ts'),
    ]);
    const loaded = await loadConfig();
    const config = loaded.config?.server ?? {};
    const port = parseInteger('port', options.port, { min: 0, max: 65_535 }) ?? config.port ?? 4000;
    const hostname = options.host ?? config.hostname ?? '127.0.0.1';
    let auth: AuthOptions | undefined = config.auth;
    let localToken: string | undefined;
    if (!auth) {
      localToken = env.BATON_SERVER_TOKEN || randomBytes(24).toString('base64url');
      auth = { tokens: { [localToken]: { principal: 'user:local', tenant: 'default' } } };
    }
    const policies = config.policies ? await PolicyEngine.load(config.policies) : undefined;
    const baton = await openBaton({ create: true, worker: options.worker ? {} : false });
    const hasUi = existsSync(join(UI_DIST, 'index.html'));
    const api = await createServer(baton, {
      auth,
      ...(policies ? { policies } : {}),
      ...(config.cors ? { cors: config.cors } : {}),
      ...(hasUi ? { assets: uiAssets() } : {}),
      log: (message, error) =>
        out.error(`[baton server] ${message}${error instanceof Error ? `: ${error.message}` : ''}`),
    });
    const running = await serve(api, { port, hostname });
    const open = localToken === undefined ? running.url : `${running.url}/#token=${localToken}`;
    if (json) {
      out.jsonLine({
        event: 'listening',
        url: running.url,
        store: displayStore(loaded.store),
        ui: hasUi,
        worker: options.worker,
        policies: Boolean(policies),
      });
    } else {
      out.line(`Baton server on ${running.url}`);
      out.line(
        out.style(
          'dim',
          `  store ${displayStore(loaded.store)} · ${options.worker ? 'with a worker' : 'no worker (run baton worker)'} · ${policies ? 'Cedar policies' : 'tenant isolation'}`,
        ),
      );
      if (hasUi) out.line(`  Open ${open}`);
      else out.line(out.style('dim', '  The web UI is not built (npm run build:ui); serving the API only.'));
      if (localToken !== undefined)
        out.line(out.style('dim', `  API token for user:local (tenant default): ${localToken}`));
      out.line(out.style('dim', `  API description: ${running.url}/api/openapi.json · Ctrl-C stops it.`));
    }
    if (!shutdown.aborted)
      await new Promise((resolve) => shutdown.addEventListener('abort', resolve, { once: true }));
    await running.close();
    if (json) out.jsonLine({ event: 'stopped' });
    else out.line('Stopped.');
    return 0;
  },
});
