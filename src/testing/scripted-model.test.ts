import type { LanguageModelV4CallOptions, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { scriptedModel, type ScriptedTurn } from './scripted-model.ts';

const script: ScriptedTurn[] = [
  { toolCalls: [{ name: 'docs.lookup', args: { word: 'alpha' } }] },
  { toolCalls: [{ name: 'docs.lookup', args: { word: 'beta' } }] },
  'done',
];

const ask = (prompt: LanguageModelV4Prompt): LanguageModelV4CallOptions => ({ prompt });
const user: LanguageModelV4Prompt[number] = {
  role: 'user',
  content: [{ type: 'text', text: 'Define them' }],
};
const afterLookup = (callId: string, toolName = 'docs_lookup'): LanguageModelV4Prompt => [
  user,
  {
    role: 'assistant',
    content: [{ type: 'tool-call', toolCallId: callId, toolName, input: { word: 'alpha' } }],
  },
  {
    role: 'tool',
    content: [{ type: 'tool-result', toolCallId: callId, toolName, output: { type: 'json', value: 'a' } }],
  },
];

describe('scriptedModel', () => {
  it('answers a conversation that holds one of its replies with the turn after it, in a new object', async () => {
    const first = scriptedModel(script);
    const reply = await first.doGenerate(ask([user]));
    const call = reply.content.find((part) => part.type === 'tool-call')!;
    expect(call.toolCallId).toBe('call_1_1');

    // A new process: a new object with the same script, sent the conversation so far.
    const resumed = scriptedModel(script);
    const next = await resumed.doGenerate(ask(afterLookup(call.toolCallId)));
    expect(resumed.calls[0]!.turn).toBe(2);
    expect(next.content).toMatchObject([
      { type: 'tool-call', toolCallId: 'call_2_1', input: '{"word":"beta"}' },
    ]);
  });

  it('counts the assistant messages after its latest recognised reply', async () => {
    const model = scriptedModel(script);
    const prompt: LanguageModelV4Prompt = [
      ...afterLookup('call_1_1'),
      { role: 'assistant', content: [{ type: 'text', text: 'thinking' }] },
      user,
    ];
    await model.doGenerate(ask(prompt));
    expect(model.calls[0]!.turn).toBe(3);
  });

  it('does not take another script’s replies for its own, and plays its turns in order within a process', async () => {
    const model = scriptedModel(script);
    // A handed-off conversation: call_1_1 came from a model whose first turn called another tool.
    await model.doGenerate(ask(afterLookup('call_1_1', 'transfer_to_billing')));
    expect(model.calls[0]!.turn).toBe(1);
    // A second conversation sharing the script, and a call whose conversation is behind: the next turn.
    await model.doGenerate(ask([user]));
    await model.doGenerate(ask(afterLookup('call_1_1')));
    expect(model.calls.map((request) => request.turn)).toEqual([1, 2, 3]);
  });

  it('recognises a reply by an id the script names', async () => {
    const named = scriptedModel([
      { toolCalls: [{ name: 'docs.lookup', args: { word: 'alpha' }, id: 'lookup-1' }] },
      'done',
    ]);
    await named.doGenerate(ask(afterLookup('lookup-1')));
    expect(named.calls[0]!.turn).toBe(2);
  });
});
