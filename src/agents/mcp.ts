import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { z } from 'zod';
import { zod } from '../lazy-module.ts';
import type { RetryPolicy } from '../engine/retry.ts';
import { BatonError, InvalidArgumentError } from '../errors.ts';
import { tool, type ToolContext, type ToolDefinition, type ToolEffect } from './tool.ts';

/** What Baton decides for one of the server's tools instead of trusting its annotations. */
export interface McpToolOverride {
  effect?: ToolEffect;
  idempotent?: boolean;
}

interface McpCommonOptions {
  /**
   * The namespace of the server's tools: `<name>.<tool>`. Tool names are journaled, so keep it
   * stable. Default: the name the server reports (its last path segment).
   */
  name?: string;
  /** Import only these tools (by the server's names). Default: all. */
  include?: readonly string[];
  /**
   * Effect and idempotence per tool (by the server's name), over what its annotations say:
   * `readOnlyHint` → 'read', `destructiveHint` → 'irreversible', otherwise 'write';
   * `idempotentHint` → idempotent. Annotations come from the server: override them for servers you
   * do not trust.
   */
  overrides?: Readonly<Record<string, McpToolOverride>>;
  /** How failed calls are retried (as for native tools). Default: one attempt. */
  retry?: RetryPolicy;
  /** How long one call may take, in ms. Default 60 000. */
  timeoutMs?: number;
  /** The resource pool calls wait in. */
  pool?: string;
}

/** A server Baton starts and speaks to over stdio. */
export interface McpStdioOptions extends McpCommonOptions {
  command: string;
  args?: readonly string[];
  /** Added to a minimal safe environment (PATH, HOME…), not to this process's whole environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Where the server's stderr goes. Default 'inherit'. */
  stderr?: 'inherit' | 'ignore' | 'pipe';
}

/** A server Baton reaches over streamable HTTP. */
export interface McpHttpOptions extends McpCommonOptions {
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
}

export type McpOptions = McpStdioOptions | McpHttpOptions;

/**
 * One MCP server's tools as Baton tools. Connects on first use (listing tools or calling one),
 * reconnects after the connection drops, and closes on `close()` — or with Baton when passed in
 * `Baton.open({ connections: [server] })`.
 */
export interface McpConnection {
  /** The namespace, once known (given, or after connecting). */
  readonly name: string | undefined;
  readonly connected: boolean;
  /** Connects (if not yet) and lists the server's tools as Baton tool definitions, named `<server>.<tool>`. */
  tools(): Promise<ToolDefinition<Record<string, unknown>, unknown>[]>;
  /** One tool, by the server's name for it (`echo`) or the Baton name (`everything.echo`). */
  tool(name: string): Promise<ToolDefinition<Record<string, unknown>, unknown>>;
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** A tool call the MCP server answered with `isError` (the tool ran and reported a failure). */
export class McpToolError extends BatonError {
  readonly server: string;
  readonly tool: string;
  constructor(args: { server: string; tool: string; message: string }) {
    super(
      'MCP_TOOL_ERROR',
      `MCP tool '${args.tool}' of server '${args.server}' reported an error: ${args.message}`,
    );
    this.server = args.server;
    this.tool = args.tool;
  }
}

/** The MCP server could not be reached or spoke out of turn. Retryable: the next call reconnects. */
export class McpConnectionError extends BatonError {
  constructor(args: { server: string; reason: string; cause?: unknown }) {
    super('MCP_CONNECTION', `Cannot reach MCP server '${args.server}': ${args.reason}`, {
      cause: args.cause,
      disposition: 'retryable',
    });
  }
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Imports the tools of an MCP server (`@modelcontextprotocol/sdk`, stdio or streamable HTTP). Each
 * becomes an ordinary Baton tool: its arguments are checked against the server's JSON Schema
 * (converted to zod) before anything is journaled, and each call goes through the same journaling,
 * interceptors, authorization and in-doubt handling as a native tool. The call's idempotency key is
 * sent to the server in the request's `_meta` (`baton/idempotencyKey`).
 *
 * @example
 * const files = mcp({ name: 'files', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', './docs'] });
 * const librarian = agent({ name: 'librarian', instructions: '…', model, tools: await files.tools() });
 * const baton = await Baton.open({ workflows: [research], connections: [files] });
 */
export function mcp(options: McpOptions): McpConnection {
  return new McpClientConnection(options);
}

class McpClientConnection implements McpConnection {
  readonly #options: McpOptions;
  #name: string | undefined;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #tools: Promise<ToolDefinition<Record<string, unknown>, unknown>[]> | undefined;
  #closed = false;

  constructor(options: McpOptions) {
    const stdio = 'command' in options && typeof options.command === 'string' && options.command !== '';
    const http = 'url' in options && (typeof options.url === 'string' || options.url instanceof URL);
    if (stdio === http) {
      throw new InvalidArgumentError(
        'mcp() needs either { command, args } (stdio) or { url } (streamable HTTP).',
      );
    }
    if (http) {
      try {
        new URL(String(options.url));
      } catch {
        throw new InvalidArgumentError(`mcp() got url '${String(options.url)}', which is not a URL.`);
      }
    }
    if (options.name !== undefined) checkNamespace(options.name);
    this.#options = options;
    this.#name = options.name;
  }

  get name(): string | undefined {
    return this.#name;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async connect(): Promise<void> {
    await this.#connect();
  }

  #connect(): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#closed = false;
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<Client> {
    const label = this.#name ?? describeTarget(this.#options);
    // The MCP SDK is loaded when a server is first connected to, not when Baton is imported.
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client({ name: 'baton', version: '0.1.0' });
    const transport = await this.#transport();
    try {
      await client.connect(transport);
    } catch (error) {
      await client.close().catch(() => {});
      throw new McpConnectionError({
        server: label,
        reason: (error as Error).message ?? String(error),
        cause: error,
      });
    }
    if (this.#closed) {
      await client.close().catch(() => {});
      throw new McpConnectionError({ server: label, reason: 'the connection was closed while it opened' });
    }
    if (this.#name === undefined) this.#name = namespaceOf(client.getServerVersion()?.name);
    client.onclose = () => {
      if (this.#client === client) this.#client = undefined;
    };
    this.#client = client;
    return client;
  }

  async #transport(): Promise<Transport> {
    const options = this.#options;
    if ('command' in options) {
      const { StdioClientTransport, getDefaultEnvironment } =
        await import('@modelcontextprotocol/sdk/client/stdio.js');
      return new StdioClientTransport({
        command: options.command,
        args: [...(options.args ?? [])],
        env: { ...getDefaultEnvironment(), ...options.env },
        stderr: options.stderr ?? 'inherit',
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      });
    }
    const { StreamableHTTPClientTransport } =
      await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(new URL(String(options.url)), {
      ...(options.headers ? { requestInit: { headers: { ...options.headers } } } : {}),
    });
  }

  tools(): Promise<ToolDefinition<Record<string, unknown>, unknown>[]> {
    this.#tools ??= this.#list().catch((error: unknown) => {
      this.#tools = undefined;
      throw error;
    });
    return this.#tools;
  }

  async tool(name: string): Promise<ToolDefinition<Record<string, unknown>, unknown>> {
    const tools = await this.tools();
    const found = tools.find(
      (candidate) => candidate.name === name || candidate.name === `${this.#name}.${name}`,
    );
    if (!found) {
      throw new InvalidArgumentError(
        `MCP server '${this.#name}' has no tool '${name}'. It has: ${tools.map((candidate) => candidate.name).join(', ')}.`,
      );
    }
    return found;
  }

  async #list(): Promise<ToolDefinition<Record<string, unknown>, unknown>[]> {
    const client = await this.#connect();
    const listed: McpToolInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      listed.push(...(page.tools as McpToolInfo[]));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const include = this.#options.include;
    if (include) {
      const missing = include.filter((name) => !listed.some((listedTool) => listedTool.name === name));
      if (missing.length > 0) {
        throw new InvalidArgumentError(
          `MCP server '${this.#name}' has no tool ${missing.map((name) => `'${name}'`).join(', ')} (option include). ` +
            `It has: ${listed.map((listedTool) => listedTool.name).join(', ')}.`,
        );
      }
    }
    return listed
      .filter((listedTool) => !include || include.includes(listedTool.name))
      .map((info) => this.#define(info));
  }

  #define(info: McpToolInfo): ToolDefinition<Record<string, unknown>, unknown> {
    const server = this.#name!;
    const name = `${server}.${info.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    if (!TOOL_NAME.test(name)) {
      throw new InvalidArgumentError(
        `MCP tool '${info.name}' of server '${server}' would be named '${name}', longer than 64 characters. ` +
          `Give the server a shorter name, or leave the tool out with the option include.`,
      );
    }
    const override = this.#options.overrides?.[info.name] ?? {};
    const annotations = info.annotations ?? {};
    const effect: ToolEffect =
      override.effect ??
      (annotations.readOnlyHint === true
        ? 'read'
        : annotations.destructiveHint === true
          ? 'irreversible'
          : 'write');
    const jsonSchema = { ...(info.inputSchema ?? { type: 'object' }) } as Record<string, unknown>;
    delete jsonSchema.$schema;
    const { schema, exact } = zodOf(jsonSchema);
    const definition = tool<Record<string, unknown>, unknown>({
      name,
      description: info.description?.trim() || info.title || `Tool '${info.name}' of MCP server '${server}'.`,
      input: schema,
      effect,
      idempotent: override.idempotent ?? annotations.idempotentHint === true,
      ...(this.#options.retry ? { retry: this.#options.retry } : {}),
      ...(this.#options.pool ? { pool: this.#options.pool } : {}),
      execute: (args, context) => this.#call(info.name, args, context),
    });
    // The model is offered the server's own schema when zod could not express it exactly.
    return exact ? definition : Object.freeze({ ...definition, jsonSchema: Object.freeze(jsonSchema) });
  }

  async #call(toolName: string, args: Record<string, unknown>, context: ToolContext): Promise<unknown> {
    const server = this.#name!;
    let client: Client;
    try {
      client = await this.#connect();
    } catch (error) {
      throw BatonError.isInstance(error)
        ? error
        : new McpConnectionError({ server, reason: String(error), cause: error });
    }
    let result: McpCallResult;
    try {
      result = (await client.callTool(
        { name: toolName, arguments: args, _meta: { 'baton/idempotencyKey': context.idempotencyKey } },
        undefined,
        { signal: context.signal, timeout: this.#options.timeoutMs ?? 60_000 },
      )) as McpCallResult;
    } catch (error) {
      if (context.signal.aborted) throw error;
      if (!this.#client)
        throw new McpConnectionError({
          server,
          reason: (error as Error).message ?? String(error),
          cause: error,
        });
      throw error;
    }
    if (result.isError)
      throw new McpToolError({
        server,
        tool: toolName,
        message: contentText(result.content) || 'no details',
      });
    return resultValue(result);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    this.#tools = undefined;
    if (!client) return;
    // Streamable HTTP sessions are ended first (the only transport with terminateSession).
    const transport = client.transport as { terminateSession?: () => Promise<void> } | undefined;
    if (transport?.terminateSession) await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

interface McpToolInfo {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  annotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

interface McpCallResult {
  content?: { type: string; text?: string }[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** What a call returns: its structured content when it has some, its text when all of it is text, else its content. */
function resultValue(result: McpCallResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.every((part) => part.type === 'text')) return contentText(content);
  return content;
}

function contentText(content: McpCallResult['content']): string {
  return (content ?? [])
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}

/** The server's JSON Schema as zod; a schema zod cannot read becomes "any object", checked by the server. */
function zodOf(jsonSchema: Record<string, unknown>): {
  schema: z.ZodType<Record<string, unknown>>;
  exact: boolean;
} {
  try {
    const schema = zod().fromJSONSchema(jsonSchema) as z.ZodType<Record<string, unknown>>;
    const round = zod().toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: unknown };
    if (round.type === 'object') return { schema, exact: true };
  } catch {
    // fall through
  }
  return { schema: zod().record(zod().string(), zod().unknown()), exact: false };
}

function checkNamespace(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,48}$/.test(name)) {
    throw new InvalidArgumentError(
      `MCP server name '${String(name)}' must be 1–48 characters of letters, digits, '_' or '-' (it prefixes its tools' names).`,
    );
  }
}

function namespaceOf(serverName: string | undefined): string {
  const last = (serverName ?? '').split('/').pop() ?? '';
  const cleaned = last.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  return cleaned || 'mcp';
}

function describeTarget(options: McpOptions): string {
  return 'command' in options ? [options.command, ...(options.args ?? [])].join(' ') : String(options.url);
}
