import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, Baton, workflow } from '../src/index.ts';
import { mcp, McpToolError, type McpConnection } from '../src/agents/mcp.ts';
import type { ToolContext } from '../src/agents/tool.ts';
import { scriptedModel } from '../src/testing/index.ts';

// A real MCP server from the registry (@modelcontextprotocol/server-everything), spoken to over stdio and streamable HTTP.
const SERVER = join(
  dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);
const stdio = (options: { include?: string[] } = {}): McpConnection =>
  track(
    mcp({
      name: 'everything',
      command: process.execPath,
      args: [SERVER, 'stdio'],
      stderr: 'ignore',
      ...options,
    }),
  );

const connections: McpConnection[] = [];
const processes: ChildProcess[] = [];
const batons: Baton[] = [];
function track(connection: McpConnection): McpConnection {
  connections.push(connection);
  return connection;
}
afterEach(async () => {
  await Promise.all(batons.splice(0).map((baton) => baton.close()));
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  for (const child of processes.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

function toolContext(): ToolContext {
  return {
    idempotencyKey: 'run_test:1',
    runId: 'run_test',
    actor: 'agent:test',
    onBehalfOf: ['user:test'],
    signal: new AbortController().signal,
    secrets: { get: async () => undefined },
    attempt: 1,
  };
}

async function parked(baton: Baton, runId: string): Promise<void> {
  while ((await baton.getRun(runId)).status !== 'waiting')
    await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('MCP tools', () => {
  it('connects lazily and imports the server tools as namespaced Baton tools, effects from annotations', async () => {
    const server = stdio();
    expect(server.connected).toBe(false);
    const tools = await server.tools();
    expect(server.connected).toBe(true);
    const byName = new Map(tools.map((definition) => [definition.name, definition]));
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining([
        'everything.echo',
        'everything.get-sum',
        'everything.toggle-simulated-logging',
      ]),
    );

    const echo = byName.get('everything.echo')!;
    expect(echo).toMatchObject({
      kind: 'tool',
      effect: 'read',
      idempotent: true,
      description: 'Echoes back the input string',
    });
    expect(echo.jsonSchema).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    });
    // No readOnlyHint: the default for a tool that may change something.
    expect(byName.get('everything.toggle-simulated-logging')).toMatchObject({
      effect: 'write',
      idempotent: false,
    });

    // Arguments are checked against the server's schema before anything runs.
    const sum = byName.get('everything.get-sum')!;
    expect(sum.input.safeParse({ a: 2, b: 3 }).success).toBe(true);
    expect(sum.input.safeParse({ a: 'two' }).success).toBe(false);
    expect(await sum.execute({ a: 2, b: 3 }, toolContext())).toBe('The sum of 2 and 3 is 5.');
  });

  it('takes overrides over annotations, imports only what is included, and names what is missing', async () => {
    const server = track(
      mcp({
        name: 'ev',
        command: process.execPath,
        args: [SERVER, 'stdio'],
        stderr: 'ignore',
        include: ['echo', 'toggle-simulated-logging'],
        overrides: { echo: { effect: 'irreversible', idempotent: false } },
      }),
    );
    const tools = await server.tools();
    expect(tools.map((definition) => [definition.name, definition.effect, definition.idempotent])).toEqual([
      ['ev.echo', 'irreversible', false],
      ['ev.toggle-simulated-logging', 'write', false],
    ]);
    expect((await server.tool('echo')).name).toBe('ev.echo');
    await expect(server.tool('nope')).rejects.toThrow(
      "MCP server 'ev' has no tool 'nope'. It has: ev.echo, ev.toggle-simulated-logging.",
    );
    const missing = stdio({ include: ['echo', 'delete-everything'] });
    await expect(missing.tools()).rejects.toThrow(
      "MCP server 'everything' has no tool 'delete-everything' (option include).",
    );
  });

  it("turns the server's isError answer into a tool error", async () => {
    const server = stdio();
    const reference = await server.tool('get-resource-reference');
    // 1.5 passes the schema (a number) but the server refuses it.
    const error = await Promise.resolve(reference.execute({ resourceId: 1.5 }, toolContext())).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(McpToolError);
    expect((error as McpToolError).message).toContain(
      "MCP tool 'get-resource-reference' of server 'everything' reported an error",
    );
    expect((error as McpToolError).message).toContain('Invalid resourceId: 1.5');
  });

  it('reconnects on the next call after close(), and closes with Baton', async () => {
    const server = stdio();
    const echo = await server.tool('echo');
    await server.close();
    expect(server.connected).toBe(false);
    expect(await echo.execute({ message: 'again' }, toolContext())).toBe('Echo: again');
    expect(server.connected).toBe(true);

    const baton = await Baton.open({ store: 'sqlite::memory:', worker: false, connections: [server] });
    await baton.close();
    expect(server.connected).toBe(false);
  });

  it('an agent calls an MCP tool in a workflow: journaled like a native tool, not called again on replay', async () => {
    const server = stdio();
    const model = scriptedModel([
      { toolCalls: [{ name: 'everything.get-sum', args: { a: 2, b: 3 } }] },
      (request) => `The tool said: ${String(request.toolResults[0]?.output)}`,
    ]);
    const calculator = agent({
      name: 'calculator',
      description: 'Adds numbers with an MCP tool',
      instructions: 'Use the sum tool.',
      model,
      tools: await server.tools(),
    });
    const sums = workflow('sums', async (ctx) => {
      const answer = await ctx.runAgent(calculator, { task: 'What is 2 + 3?' });
      const thanks = await ctx.waitFor<string>('thanks');
      return `${answer} (${thanks})`;
    });
    const baton = await Baton.open({
      store: 'sqlite::memory:',
      workflows: [sums],
      worker: { pollMs: 20 },
      connections: [server],
    });
    batons.push(baton);
    const run = await baton.start(sums, null, { as: 'user:alice' });
    await parked(baton, run.runId);

    // The replay after the signal must answer the call from the journal: with the connection closed,
    // a call to the server would open it again.
    await server.close();
    await baton.signal(run.runId, 'thanks', 'ok');
    expect(await run.result()).toBe('The tool said: The sum of 2 and 3 is 5. (ok)');
    expect(server.connected).toBe(false);
    expect(model.calls).toHaveLength(2);

    const history = await run.history();
    const requested = history.filter((event) => event.type === 'tool.requested');
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatchObject({
      actor: 'agent:calculator',
      onBehalfOf: ['workflow:sums', 'user:alice'],
      payload: {
        name: 'everything.get-sum',
        args: { a: 2, b: 3 },
        effect: 'read',
        idempotent: true,
        agent: 'calculator',
      },
    });
    const called = history.filter((event) => event.type === 'tool.called');
    expect(called).toHaveLength(1);
    expect(called[0]!.payload).toMatchObject({ name: 'everything.get-sum', attempt: 1 });
    expect(called[0]!.seq).toBeGreaterThan(requested[0]!.seq);
  });

  it('speaks streamable HTTP', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [SERVER, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    processes.push(child);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes(`listening on port ${port}`)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the MCP HTTP server exited (${code}): ${stderr}`)));
    });

    const server = track(mcp({ url: `http://127.0.0.1:${port}/mcp`, headers: { 'x-test': 'baton' } }));
    const echo = await server.tool('echo');
    expect(server.name).toBe('everything'); // from the server's own name, as none was given
    expect(echo.name).toBe('everything.echo');
    expect(await echo.execute({ message: 'over http' }, toolContext())).toBe('Echo: over http');
    await server.close();
    expect(server.connected).toBe(false);
  });

  it('refuses bad options at once', () => {
    expect(() => mcp({} as never)).toThrow(
      'mcp() needs either { command, args } (stdio) or { url } (streamable HTTP).',
    );
    expect(() => mcp({ url: 'not a url' })).toThrow("mcp() got url 'not a url', which is not a URL.");
    expect(() => mcp({ name: 'a.b', command: 'x' })).toThrow("MCP server name 'a.b' must be 1–48 characters");
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
