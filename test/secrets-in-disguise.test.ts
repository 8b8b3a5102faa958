import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { createGrant } from '../src/access/grant.ts';
import { identityChain } from '../src/access/identity-chain.ts';
import { mapSecrets, SecretBroker } from '../src/access/secret-broker.ts';
import { disguisesOf } from '../src/journal/secret-disguises.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harness } from './support/harness.ts';

const SECRET = 'sk_live_Zx9/+q?&= ünïcode';
const chain = identityChain('acme', 'agent:ops', ['user:alice']);
const grant = createGrant({ tenant: 'acme', actions: ['secret:*'] });

const encodings: Record<string, (secret: string) => string> = {
  base64: (secret) => Buffer.from(secret).toString('base64'),
  'base64 without padding': (secret) => Buffer.from(secret).toString('base64').replace(/=+$/, ''),
  base64url: (secret) => Buffer.from(secret).toString('base64url'),
  'URL-encoded': (secret) => encodeURIComponent(secret),
  'form-encoded': (secret) => new URLSearchParams({ key: secret }).toString().slice('key='.length),
  hex: (secret) => Buffer.from(secret).toString('hex'),
  'upper-case hex': (secret) => Buffer.from(secret).toString('hex').toUpperCase(),
  'JSON-escaped': (secret) => JSON.stringify(secret).slice(1, -1),
  'inside a Basic auth header (base64 at an offset)': (secret) =>
    `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`,
  'inside a longer base64url token, at offset 2': (secret) =>
    Buffer.from(`xy${secret}tail`).toString('base64url'),
};

describe('secrets in disguise', () => {
  for (const [name, encode] of Object.entries(encodings)) {
    it(`scrubs a granted secret returned ${name}`, async () => {
      const broker = new SecretBroker({ sources: [mapSecrets({ 'stripe.key': SECRET })] });
      await broker.get('stripe.key', { chain, grant });
      const leaked = encode(SECRET);
      const scrubbed = broker.scrub({ log: `sent ${leaked} upstream`, [leaked]: true });
      const text = JSON.stringify(scrubbed);
      expect(text).toContain('[secret]');
      // What is left cannot be decoded back to the secret.
      for (const form of disguisesOf(SECRET)) expect(text).not.toContain(form);
      expect(Buffer.from(text, 'base64').toString('utf8')).not.toContain(SECRET);
    });
  }

  it('leaves text that merely looks encoded alone', async () => {
    const broker = new SecretBroker({ sources: [mapSecrets({ 'stripe.key': SECRET })] });
    await broker.get('stripe.key', { chain, grant });
    const clean = { token: Buffer.from('nothing to see here').toString('base64'), hex: 'deadbeefcafe' };
    expect(broker.scrub(clean)).toEqual(clean);
  });

  it('a tool that returns the secret base64- or URL-encoded leaks it to neither the model nor the journal', async () => {
    const leaky = tool({
      name: 'stripe.debug',
      description: 'Shows the Stripe configuration',
      input: z.object({}),
      effect: 'read',
      secrets: ['stripe.key'],
      execute: async (_args, { secrets }) => {
        const key = (await secrets.get('stripe.key'))!;
        return {
          authorization: `Basic ${Buffer.from(`acct:${key}`).toString('base64')}`,
          url: `https://api.example/?key=${encodeURIComponent(key)}`,
          hex: Buffer.from(key).toString('hex'),
        };
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'stripe.debug', args: {} }] },
      (request) => JSON.stringify(request.toolResults.map((result) => result.output)),
    ]);
    const ops = agent({ name: 'ops', description: 'Ops', instructions: 'Check.', model, tools: [leaky] });
    const flow = workflow('ops', async (ctx) => ctx.runAgent(ops, 'Check Stripe'));
    const broker = new SecretBroker({ sources: [mapSecrets({ 'stripe.key': SECRET })] });
    const h = await harness({ workflows: [flow], secrets: broker });
    try {
      const run = await h.baton.start(
        flow,
        {},
        { as: 'user:alice', grant: { actions: ['tool:*', 'secret:stripe.key'] } },
      );
      const answer = String(await run.result());
      const journal = JSON.stringify(await run.history());
      for (const form of disguisesOf(SECRET)) {
        expect(answer).not.toContain(form);
        expect(journal).not.toContain(form);
        expect(JSON.stringify(model.calls)).not.toContain(form);
      }
      expect(answer).toContain('[secret]');
    } finally {
      await h.close();
    }
  });
});
