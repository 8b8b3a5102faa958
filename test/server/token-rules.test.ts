import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/server/authenticate.ts';
import { startTestServer } from '../support/test-server.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const key = new TextEncoder().encode(SECRET);

function token(subject: string, claims: Record<string, unknown> = { tenant: 'acme' }): SignJWT {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(subject);
}

async function refusal(auth: Authenticator, jwt: string): Promise<string> {
  const error = (await auth.authenticate(`Bearer ${jwt}`).then(
    () => undefined,
    (caught: unknown) => caught,
  )) as { code?: string; status?: number; message: string } | undefined;
  expect(error, 'the token was accepted').toBeDefined();
  expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  return error!.message;
}

describe('token rules', () => {
  it('refuses a JWT that never expires, unless configured to accept it', async () => {
    const auth = await Authenticator.create({ jwt: { secret: SECRET } });
    const forever = await token('alice').sign(key);
    expect(await refusal(auth, forever)).toContain('never expires');
    const lenient = await Authenticator.create({ jwt: { secret: SECRET, requireExpiry: false } });
    expect(await lenient.authenticate(`Bearer ${forever}`)).toEqual({
      principal: 'user:alice',
      tenant: 'acme',
      via: 'jwt',
    });
  });

  it('refuses a JWT issued in the future, beyond the clock tolerance', async () => {
    const auth = await Authenticator.create({ jwt: { secret: SECRET } });
    const now = Math.floor(Date.now() / 1000);
    const future = await token('alice')
      .setIssuedAt(now + 3600)
      .setExpirationTime(now + 7200)
      .sign(key);
    expect(await refusal(auth, future)).toContain('issued in the future');
    const slightly = await token('alice')
      .setIssuedAt(now + 30)
      .setExpirationTime(now + 600)
      .sign(key);
    expect(await auth.authenticate(`Bearer ${slightly}`)).toMatchObject({ principal: 'user:alice' });
    const tolerant = await Authenticator.create({ jwt: { secret: SECRET, clockToleranceSeconds: 7200 } });
    expect(await tolerant.authenticate(`Bearer ${future}`)).toMatchObject({ principal: 'user:alice' });
  });

  it('refuses a JWT whose subject claims to be an agent or a workflow', async () => {
    const auth = await Authenticator.create({ jwt: { secret: SECRET } });
    for (const subject of ['agent:billing', 'workflow:refund']) {
      const jwt = await token(subject).setExpirationTime('5m').sign(key);
      expect(await refusal(auth, jwt)).toContain('a caller is a user or a service');
    }
    const service = await token('service:ci').setExpirationTime('5m').sign(key);
    expect(await auth.authenticate(`Bearer ${service}`)).toMatchObject({ principal: 'service:ci' });
  });

  it('refuses API tokens configured for an agent or a workflow', async () => {
    for (const principal of ['agent:billing', 'workflow:refund']) {
      await expect(
        Authenticator.create({ tokens: { 'a-token-of-enough-length': { principal, tenant: 'acme' } } }),
      ).rejects.toMatchObject({ code: 'CONFIG' });
    }
  });
});

describe('who the caller is comes from the credential only', () => {
  it('a request body naming who to act as is refused (400), on start, signal and approval', async () => {
    const server = await startTestServer();
    try {
      const post = async (path: string, json: unknown) => {
        const response = await server.call(path, { method: 'POST', json });
        return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
      };
      for (const field of ['as', 'principal', 'tenant']) {
        const start = await post('/api/runs', {
          workflow: 'waiter',
          input: { name: 'x' },
          [field]: 'user:root',
        });
        expect(start.status, field).toBe(400);
        expect(start.body.error?.code).toBe('INVALID_REQUEST');
      }
      const started = (await post('/api/runs', { workflow: 'waiter', input: { name: 'Ada' } }))
        .body as unknown as {
        run: { runId: string; principal: string };
      };
      expect(started.run.principal).toBe('user:alice');
      const signal = await post(`/api/runs/${started.run.runId}/signals`, { name: 'go', as: 'user:root' });
      expect(signal.status).toBe(400);
      const approval = await post(`/api/runs/${started.run.runId}/approvals/any`, {
        decision: 'approve',
        as: 'user:root',
      });
      expect(approval.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
