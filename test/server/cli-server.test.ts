import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { batonSource as source, cliProject, writeProject } from '../support/cli-project.ts';

const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(source)};

const greet = workflow('greet', async (ctx, input: { name: string }) => ctx.step('compose', () => 'Hello, ' + input.name));

export default defineConfig({
  store: 'sqlite:./server.db',
  workflows: [greet],
  server: { auth: { tokens: { 'ops-token-0123456789abcdef': { principal: 'service:ops', tenant: 'acme' } } } },
});
`;

const project = cliProject('baton-cli-server-', { 'baton.config.ts': CONFIG });

/** Runs `baton server …` until `use` is done with its URL, then stops it as Ctrl-C would. */
async function withServer(
  args: string[],
  env: Record<string, string>,
  use: (url: string, lines: string[]) => Promise<void>,
  cwd = project.dir,
): Promise<number> {
  const controller = new AbortController();
  let stdout = '';
  let listening!: (url: string) => void;
  const ready = new Promise<string>((resolve) => (listening = resolve));
  const exited = main(['server', ...args, '--json'], {
    stdout: {
      write: (text: string) => {
        stdout += text;
        const match = /"url":"([^"]+)"/.exec(text);
        if (match) listening(match[1]!);
      },
    },
    stderr: { write: () => undefined },
    cwd,
    env,
    signal: controller.signal,
  });
  const url = await Promise.race([
    ready,
    exited.then((code) => Promise.reject(new Error(`baton server exited with ${code}: ${stdout}`))),
  ]);
  try {
    await use(url, stdout.trim().split('\n'));
  } finally {
    controller.abort();
  }
  return exited;
}

describe('baton server', () => {
  it("serves the API with the config's tokens, runs with --worker, and stops on Ctrl-C", async () => {
    const code = await withServer(['--port', '0', '--worker'], {}, async (url) => {
      expect((await fetch(`${url}/api/runs`)).status).toBe(401);
      const headers = {
        authorization: 'Bearer ops-token-0123456789abcdef',
        'content-type': 'application/json',
      };
      const started = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ workflow: 'greet', input: { name: 'Ada' } }),
      });
      expect(started.status).toBe(201);
      const { run } = (await started.json()) as { run: { runId: string; principal: string; tenant: string } };
      expect(run).toMatchObject({ principal: 'service:ops', tenant: 'acme' });
      for (;;) {
        const current = (
          (await (await fetch(`${url}/api/runs/${run.runId}`, { headers })).json()) as {
            run: { status: string; result?: unknown };
          }
        ).run;
        if (current.status === 'completed') {
          expect(current.result).toBe('Hello, Ada');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    expect(code).toBe(0);
  });

  it('makes a local token when the config names no auth (BATON_SERVER_TOKEN when set)', async () => {
    // Another project: a config module is imported once per process.
    const bare = writeProject('baton-cli-server-', {
      'baton.config.ts': CONFIG.replace(/ {2}server: \{[^\n]*\n/, ''),
    });
    const token = 'local-token-from-the-environment';
    const code = await withServer(
      ['--port', '0'],
      { BATON_SERVER_TOKEN: token },
      async (url) => {
        const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
        expect(await me.json()).toMatchObject({ principal: 'user:local', tenant: 'default' });
        expect(
          (await fetch(`${url}/api/me`, { headers: { authorization: 'Bearer some-other-token-00000000' } }))
            .status,
        ).toBe(401);
      },
      bare,
    );
    rmSync(bare, { recursive: true, force: true });
    expect(code).toBe(0);
  });
});
