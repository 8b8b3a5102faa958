import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretAccessDeniedError, SigningKeyError } from '../src/access/access-errors.ts';
import { delegate } from '../src/access/delegate.ts';
import { createGrant } from '../src/access/grant.ts';
import { identityChain } from '../src/access/identity-chain.ts';
import { redact, REDACTED } from '../src/access/redact.ts';
import { envSecrets, mapSecrets, SecretBroker } from '../src/access/secret-broker.ts';
import { SigningKey } from '../src/access/signing-key.ts';

const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);
const billing = identityChain('acme', 'agent:billing', ['user:alice']);
const writer = identityChain('acme', 'agent:writer', ['user:alice']);
const root = createGrant({
  tenant: 'acme',
  actions: ['tool:*', 'secret:stripe.*', 'secret:smtp.password'],
  expiresAt: NOW + 3_600_000,
});

describe('the secret broker', () => {
  const broker = new SecretBroker({
    sources: [
      envSecrets({ env: { BATON_SECRET_STRIPE_KEY: 'sk_live_from_env_123' } }),
      mapSecrets({
        'stripe.key': 'sk_shadowed',
        'smtp.password': 'hunter2-hunter2',
        'github.token': 'ghp_never',
      }),
    ],
  });

  it('hands a secret to an identity whose grant lists it, from the first source that has it', async () => {
    const grant = delegate(root, ['tool:payments.*', 'secret:stripe.key'], { now: NOW });
    expect(await broker.get('stripe.key', { chain: billing, grant, now: NOW })).toBe('sk_live_from_env_123');
    expect(
      await broker.reader({ chain: billing, grant: root, now: NOW }).get('stripe.webhook'),
    ).toBeUndefined(); // allowed, but no source has it
  });

  it('refuses an identity whose grant does not list it, has expired, or is missing', async () => {
    const grant = delegate(root, ['tool:search.*'], { now: NOW });
    await expect(broker.get('stripe.key', { chain: writer, grant, now: NOW })).rejects.toBeInstanceOf(
      SecretAccessDeniedError,
    );
    await expect(broker.get('stripe.key', { chain: writer, grant, now: NOW })).rejects.toThrow(
      "agent:writer may not read secret 'stripe.key': its grant",
    );
    await expect(broker.get('github.token', { chain: billing, grant: root, now: NOW })).rejects.toThrow(
      /does not list secret:github.token/,
    );
    await expect(
      broker.get('stripe.key', { chain: billing, grant: root, now: NOW + 7_200_000 }),
    ).rejects.toThrow(/expired/);
    await expect(broker.get('stripe.key', { chain: billing, grant: undefined })).rejects.toThrow(
      /holds no grant/,
    );
    const globex = identityChain('globex', 'agent:billing', ['user:alice']);
    await expect(broker.get('stripe.key', { chain: globex, grant: root, now: NOW })).rejects.toThrow(
      /another tenant/,
    );
  });

  it('scrubs the secrets it handed out from anything about to be journaled or shown to a model', async () => {
    const scrubber = new SecretBroker({ sources: [mapSecrets({ 'smtp.password': 'hunter2-hunter2' })] });
    const untouched = { note: 'hunter2-hunter2' };
    expect(scrubber.scrub(untouched)).toBe(untouched); // nothing handed out yet
    await scrubber.get('smtp.password', { chain: billing, grant: root, now: NOW });
    const result = { log: ['login with hunter2-hunter2 ok'], headers: { 'x-hunter2-hunter2': 1 }, count: 2 };
    expect(scrubber.scrub(result)).toEqual({
      log: ['login with [secret] ok'],
      headers: { 'x-[secret]': 1 },
      count: 2,
    });
    expect(result.log[0]).toContain('hunter2'); // the input is not modified
  });
});

describe('redact', () => {
  it('replaces configured fields, through objects and arrays, and leaves the input alone', () => {
    const args = {
      card: { number: '4111111111111111', exp: '12/30' },
      apiKey: 'sk_123',
      items: [
        { sku: 'a', token: 't1' },
        { sku: 'b', token: 't2' },
      ],
      payees: [{ iban: 'DE89' }, { iban: 'FR76' }],
      note: 'keep',
    };
    const copy = structuredClone(args);
    expect(
      redact(args, ['card.number', 'apiKey', 'items.*.token', 'payees.iban', 'missing.field', 'note.length']),
    ).toEqual({
      card: { number: REDACTED, exp: '12/30' },
      apiKey: REDACTED,
      items: [
        { sku: 'a', token: REDACTED },
        { sku: 'b', token: REDACTED },
      ],
      payees: [{ iban: REDACTED }, { iban: REDACTED }],
      note: 'keep',
    });
    expect(args).toEqual(copy);
    expect(redact({ list: ['a', 'b'] }, ['list.1'])).toEqual({ list: ['a', REDACTED] });
    expect(redact({ secret: { nested: true } }, ['secret'])).toEqual({ secret: REDACTED });
  });
});

describe('the deployment signing key', () => {
  it('is created in .baton/keys on first use, private to its owner, and read back after', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-keys-'));
    try {
      const keys = join(directory, '.baton', 'keys');
      const first = await SigningKey.open({ directory: keys });
      const again = await SigningKey.open({ directory: keys });
      expect(again.keyId).toBe(first.keyId);
      expect(first.file).toBe(join(keys, 'checkpoint-ed25519.pem'));
      expect((await stat(first.file!)).mode & 0o777).toBe(0o600);
      const named = await SigningKey.open({ file: first.file! });
      expect(named.keyId).toBe(first.keyId);
      expect(await readFile(first.file!, 'utf8')).toContain('BEGIN PRIVATE KEY');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses a configured key file that is missing or not Ed25519, instead of making a new one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-keys-'));
    try {
      await expect(SigningKey.open({ file: join(directory, 'nope.pem') })).rejects.toThrow(
        /does not make a new one/,
      );
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      await writeFile(join(directory, 'rsa.pem'), rsa);
      await expect(SigningKey.open({ file: join(directory, 'rsa.pem') })).rejects.toBeInstanceOf(
        SigningKeyError,
      );
      await writeFile(join(directory, 'junk.pem'), 'not a key');
      await expect(SigningKey.open({ file: join(directory, 'junk.pem') })).rejects.toThrow(
        /not a PEM private key/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
