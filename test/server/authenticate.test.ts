import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/server/authenticate.ts';

async function signed(
  privateKey: CryptoKey,
  alg: string,
  claims: Record<string, unknown>,
  subject: string,
  kid?: string,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject(subject)
    .setIssuer('https://issuer.example')
    .setExpirationTime('5m')
    .sign(privateKey);
}

describe('the authenticator', () => {
  it('verifies JWTs against a public key (PEM or JWK), with issuer and a custom tenant claim', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const token = await signed(privateKey, 'ES256', { org: 'acme' }, 'service:ci');
    for (const key of [await exportSPKI(publicKey), await exportJWK(publicKey)]) {
      const auth = await Authenticator.create({
        jwt: { publicKey: key, algorithms: ['ES256'], issuer: 'https://issuer.example', tenantClaim: 'org' },
      });
      expect(await auth.authenticate(`Bearer ${token}`)).toEqual({
        principal: 'service:ci',
        tenant: 'acme',
        via: 'jwt',
      });
    }
    const strict = await Authenticator.create({
      jwt: {
        publicKey: await exportJWK(publicKey),
        algorithms: ['ES256'],
        issuer: 'https://other.example',
        tenantClaim: 'org',
      },
    });
    await expect(strict.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 401,
    });
  });

  it('fetches keys from a JWKS endpoint by kid', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    const jwks = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
      const auth = await Authenticator.create({ jwt: { jwksUrl: url, defaultTenant: 'acme' } });
      const token = await signed(privateKey, 'RS256', {}, 'dora', 'key-1');
      expect(await auth.authenticate(`Bearer ${token}`)).toEqual({
        principal: 'user:dora',
        tenant: 'acme',
        via: 'jwt',
      });
      const stranger = await signed((await generateKeyPair('RS256')).privateKey, 'RS256', {}, 'eve', 'key-1');
      await expect(auth.authenticate(`Bearer ${stranger}`)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    } finally {
      jwks.close();
    }
  });

  it('refuses a configuration that cannot be safe, before serving anything', async () => {
    await expect(Authenticator.create({})).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(Authenticator.create({ tokens: { short: { principal: 'user:a' } } })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    await expect(
      Authenticator.create({ tokens: { 'long-enough-token-000000': { principal: 'alice' } } }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(Authenticator.create({ jwt: { secret: 'too-short' } })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    await expect(
      Authenticator.create({ jwt: { secret: 'x'.repeat(40), jwksUrl: 'https://a.example/jwks' } }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
