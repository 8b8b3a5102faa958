import { AbstractChat, DefaultChatTransport, type ChatState, type ChatStatus, type UIMessage } from 'ai';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/agents/agent-context.ts';
import { tool } from '../../src/agents/tool.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { startTestServer, TOKENS, type TestServer } from './server-harness.ts';

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
    await ctx.run(desk, message.text);
  }
});

const textOf = (message: UIMessage | undefined): string =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');

describe('useChat against a Baton server (the AI SDK UI message stream)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [chat] });
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
