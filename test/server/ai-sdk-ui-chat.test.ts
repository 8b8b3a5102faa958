import { AbstractChat, DefaultChatTransport, type ChatState, type ChatStatus, type UIMessage } from 'ai';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { tool } from '../../src/agents/tool.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { gate } from '../support/harness.ts';
import { startTestServer, type TestServer, TOKENS } from '../support/test-server.ts';
import { pacedModel } from '../support/paced-model.ts';

// The AI SDK's own chat state machine (AbstractChat, what useChat runs in a browser) with its
// DefaultChatTransport, against a real Baton server: a conversation is a run, each user message a
// signal, the answer streams, a gated tool call asks for an approval the user answers.

class ArrayChatState implements ChatState<UIMessage> {
  status: ChatStatus = 'ready';
  error: Error | undefined;
  messages: UIMessage[] = [];
  pushMessage = (message: UIMessage) => void this.messages.push(message);
  popMessage = () => void this.messages.pop();
  replaceMessage = (index: number, message: UIMessage) => void (this.messages[index] = message);
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

class NodeChat extends AbstractChat<UIMessage> {
  constructor(init: ConstructorParameters<typeof AbstractChat<UIMessage>>[0]) {
    super(init);
  }
}

const refund = tool({
  name: 'payments.refund',
  description: 'Refunds a charge',
  input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
  effect: 'irreversible',
  execute: async (args) => ({ refunded: args.cents, chargeId: args.chargeId }),
});

const model = scriptedModel(
  [
    'Hello! I can refund charges.',
    { toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_7', cents: 500 } }] },
    (request) => `Refunded ${JSON.stringify(request.toolResults[0]?.output)}.`,
  ],
  { chunkSize: 5 },
);
const desk = agent({ name: 'desk', description: 'Refunds', instructions: 'Help.', model, tools: [refund] });
const chat = workflow('chat', async (ctx) => {
  for (let turn = 0; turn < 2; turn++) {
    const message = await ctx.waitFor<{ text: string }>('message');
    await ctx.runAgent(desk, message.text);
  }
});

const held = gate();
const slowTokens = ['A', ' reload', ' loses', ' nothing', ' of', ' this', ' answer.'];
const slow = agent({
  name: 'slow',
  description: 'Answers slowly',
  instructions: 'Answer.',
  model: pacedModel(slowTokens, async (index) => (index === 3 ? held.promise : undefined)),
});
const slowChat = workflow('slow-chat', async (ctx) => {
  const message = await ctx.waitFor<{ text: string }>('message');
  await ctx.runAgent(slow, message.text);
  await ctx.waitFor('message');
});

/** The UI message chunks of a response, read until `until` holds or the stream ends. */
async function chunksOf(response: Response, until: (chunks: any[]) => boolean = () => false): Promise<any[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const chunks: any[] = [];
  let buffer = '';
  outer: for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer
        .slice(0, boundary)
        .split('\n')
        .find((line) => line.startsWith('data: '));
      buffer = buffer.slice(boundary + 2);
      if (!data || data === 'data: [DONE]') continue;
      chunks.push(JSON.parse(data.slice(6)));
      if (until(chunks)) break outer;
    }
  }
  await reader.cancel();
  return chunks;
}

const deltas = (chunks: readonly any[]): string =>
  chunks
    .filter((chunk) => chunk.type === 'text-delta')
    .map((chunk) => chunk.delta)
    .join('');

const textOf = (message: UIMessage | undefined): string =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');

describe('useChat against a Baton server (the AI SDK UI message stream)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [chat, slowChat] });
  });
  afterAll(async () => server.close());

  it('streams the answer, shows a tool call and its approval, and goes on when the user approves', async () => {
    // Bob's service started the conversation; Alice talks in it and may approve (not her own run's request).
    const created = await server.call('/api/runs', {
      method: 'POST',
      as: 'bob',
      json: { workflow: 'chat', input: {} },
    });
    const runId = ((await created.json()) as { run: { runId: string } }).run.runId;
    const conversation = new NodeChat({
      id: runId,
      state: new ArrayChatState(),
      transport: new DefaultChatTransport({
        api: `${server.url}/api/chat`,
        headers: { authorization: `Bearer ${TOKENS.alice}` },
      }),
    });

    await conversation.sendMessage({ text: 'Hi' });
    expect(conversation.error).toBeUndefined();
    expect(textOf(conversation.lastMessage)).toBe('Hello! I can refund charges.');
    expect(conversation.lastMessage?.metadata).toEqual({ runId });

    await conversation.sendMessage({ text: 'Refund ch_7, please' });
    const asking = conversation.lastMessage!.parts.find(
      (part) => part.type === 'tool-payments.refund',
    ) as any;
    expect(asking).toMatchObject({
      state: 'approval-requested',
      input: { chargeId: 'ch_7', cents: 500 },
      approval: { id: expect.any(String) },
    });

    await conversation.addToolApprovalResponse({ id: asking.approval.id, approved: true });
    await conversation.sendMessage();
    expect(conversation.error).toBeUndefined();
    const answered = conversation.lastMessage!;
    const done = answered.parts.find((part) => part.type === 'tool-payments.refund') as any;
    expect(done).toMatchObject({ state: 'output-available', output: { refunded: 500, chargeId: 'ch_7' } });
    expect(textOf(answered)).toContain('Refunded {"refunded":500,"chargeId":"ch_7"}.');
    expect(conversation.messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);

    // Nothing is being answered now: a reloaded page that resumes gets 204.
    const resumed = await server.call(`/api/chat/${runId}/stream`);
    expect(resumed.status).toBe(204);
  });

  it('resumes the answer in progress after a reload: from its start, then live, to its end', async () => {
    const created = await server.call('/api/runs', {
      method: 'POST',
      json: { workflow: 'slow-chat', input: {} },
    });
    const runId = ((await created.json()) as { run: { runId: string } }).run.runId;
    const leave = new AbortController();
    const first = await server.call('/api/chat', {
      method: 'POST',
      signal: leave.signal,
      json: { id: runId, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Go' }] }] },
    });
    const before = await chunksOf(first, (chunks) => deltas(chunks) === 'A reload loses');
    leave.abort(); // the page reloads mid-answer

    const resumed = await server.call(`/api/chat/${runId}/stream`);
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const replayed = chunksOf(resumed);
    held.open();
    const after = await replayed;
    expect(after[0]).toMatchObject({ type: 'start', messageMetadata: { runId } });
    expect(deltas(after)).toBe(slowTokens.join(''));
    expect(after.at(-1)).toEqual({ type: 'finish' });
    expect(before[0]).toMatchObject({ type: 'start' });
  });

  it('answers a request that carries nothing new with 400, and a run of another tenant with 404', async () => {
    const created = await server.call('/api/runs', { method: 'POST', json: { workflow: 'chat', input: {} } });
    const runId = ((await created.json()) as { run: { runId: string } }).run.runId;
    const empty = await server.call('/api/chat', { method: 'POST', json: { id: runId, messages: [] } });
    expect(empty.status).toBe(400);
    const foreign = await server.call('/api/chat', {
      method: 'POST',
      as: 'mallory',
      json: { id: runId, messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] },
    });
    expect(foreign.status).toBe(404);
  });
});
