// The conversation: one run per chat. Each user message arrives as the signal `message` (the
// server's POST /api/chat sends it); the desk agent answers it, and a refund (an irreversible tool)
// waits for a person's approval. Offline: the agent's model is scripted.
import { z } from 'zod';
import { agent, tool, workflow } from '../../src/index.ts';
import { scriptedModel } from '../../src/testing/index.ts';

const refund = tool({
  name: 'payments.refund',
  description: 'Refunds a charge',
  input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
  effect: 'irreversible',
  execute: async ({ chargeId, cents }) => ({ chargeId, refunded: cents }),
});

/** The scripted desk: greets, asks to refund the charge a message names, then confirms. */
function deskModel() {
  return scriptedModel(
    [
      'Hello! I am the billing desk. I can refund a charge: tell me which one.',
      (request) => {
        const chargeId = /ch_\w+/.exec(request.lastUserText)?.[0] ?? 'ch_unknown';
        return { toolCalls: [{ name: 'payments.refund', args: { chargeId, cents: 1250 } }] };
      },
      (request) => {
        const result = request.toolResults[0];
        return result?.isError
          ? 'The refund was not made.'
          : `Done: refunded ${JSON.stringify(result?.output)}. Anything else?`;
      },
      'You are welcome. Goodbye!',
    ],
    { chunkSize: 4 },
  );
}

export function chatWorkflow() {
  const desk = agent({
    name: 'desk',
    description: 'The billing desk',
    instructions: 'Help with billing; refund charges when asked.',
    model: deskModel(),
    tools: [refund],
  });
  return workflow('chat', async (ctx) => {
    for (let turn = 0; turn < 20; turn++) {
      const message = await ctx.waitFor<{ text: string }>('message');
      await ctx.runAgent(desk, message.text);
    }
  });
}
