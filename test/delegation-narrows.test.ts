import { describe, expect, it } from 'vitest';
import {
  DelegationDepthError,
  DelegationWidensError,
  GrantExpiredError,
  InvalidGrantError,
  UnknownPrincipalError,
} from '../src/access/access-errors.ts';
import { actionMatches, patternCovers } from '../src/access/action-pattern.ts';
import { delegate } from '../src/access/delegate.ts';
import { createGrant, grantAllows, parseGrant } from '../src/access/grant.ts';
import { actingFor, chainRoot, describeChain, identityChain } from '../src/access/identity-chain.ts';
import { parsePrincipal } from '../src/access/principal.ts';

const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);
const HOUR = 3_600_000;

const alice = createGrant({
  tenant: 'acme',
  holder: 'user:alice',
  actions: ['tool:search.*', 'tool:payments.refund', 'handoff:*', 'child:report', 'secret:stripe.key'],
  expiresAt: NOW + 8 * HOUR,
});

describe('grant action patterns', () => {
  it('match actions by glob, across dots', () => {
    expect(actionMatches('tool:search.*', 'tool:search.web')).toBe(true);
    expect(actionMatches('tool:search.*', 'tool:search.web.deep')).toBe(true);
    expect(actionMatches('tool:search.*', 'tool:searchx')).toBe(false);
    expect(actionMatches('tool:search.*', 'tool:payments.refund')).toBe(false);
    expect(actionMatches('*', 'handoff:billing')).toBe(true);
    expect(actionMatches('handoff:*', 'tool:x')).toBe(false);
  });

  it('know which pattern covers which', () => {
    expect(patternCovers('tool:*', 'tool:search.*')).toBe(true);
    expect(patternCovers('tool:search.*', 'tool:*')).toBe(false);
    expect(patternCovers('tool:search.*', 'tool:search.web')).toBe(true);
    expect(patternCovers('tool:*.web', 'tool:search.*')).toBe(false);
    expect(patternCovers('tool:search.*', 'tool:*.web')).toBe(false);
    expect(patternCovers('*', '*')).toBe(true);
    expect(patternCovers('tool:a*b', 'tool:a*x*b')).toBe(true);
  });

  it('refuse an action that is not scope:name', () => {
    expect(() => createGrant({ tenant: 'acme', actions: ['refund money'] })).toThrow(InvalidGrantError);
    expect(() => createGrant({ tenant: 'acme', actions: ['payments.refund'] })).toThrow(/scope:name/);
  });
});

describe('delegation only narrows', () => {
  it('gives the callee exactly what it needs when the parent holds it', () => {
    const writer = delegate(
      alice,
      { holder: 'agent:writer', actions: ['tool:search.web', 'handoff:billing'] },
      { now: NOW },
    );
    expect(writer.actions).toEqual(['tool:search.web', 'handoff:billing']);
    expect(writer).toMatchObject({
      tenant: 'acme',
      depth: 1,
      parentId: alice.id,
      holder: 'agent:writer',
      expiresAt: alice.expiresAt,
    });
    expect(grantAllows(writer, 'tool:search.web', NOW)).toBe(true);
    expect(grantAllows(writer, 'tool:search.news', NOW)).toBe(false);
    expect(grantAllows(writer, 'tool:payments.refund', NOW)).toBe(false);
  });

  it('throws DelegationWidensError naming what the parent does not hold (strict, the default)', () => {
    let error: unknown;
    try {
      delegate(
        alice,
        { holder: 'agent:mailer', actions: ['tool:search.web', 'tool:email.send', 'tool:*'] },
        { now: NOW },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DelegationWidensError);
    expect((error as DelegationWidensError).actions).toEqual(['tool:email.send', 'tool:*']);
    expect((error as Error).message).toContain("agent:mailer asks for 'tool:email.send', 'tool:*'");
    expect((error as Error).message).toContain(alice.id);
  });

  it('narrows a wider need to what the parent holds inside it when not strict', () => {
    const narrowed = delegate(alice, ['tool:*', 'tool:email.send'], { now: NOW, strict: false });
    expect(narrowed.actions).toEqual(['tool:search.*', 'tool:payments.refund']);
    expect(grantAllows(narrowed, 'tool:email.send', NOW)).toBe(false);
    expect(grantAllows(narrowed, 'handoff:billing', NOW)).toBe(false);
  });

  it('can never widen through a chain of delegations', () => {
    const planner = delegate(alice, ['tool:search.*', 'handoff:*'], { now: NOW });
    const writer = delegate(planner, ['tool:search.web'], { now: NOW });
    expect(() => delegate(writer, ['tool:search.news'], { now: NOW })).toThrow(DelegationWidensError);
    expect(() => delegate(writer, ['handoff:billing'], { now: NOW })).toThrow(DelegationWidensError);
    expect(delegate(writer, ['tool:search.web'], { now: NOW }).depth).toBe(3);
  });

  it('keeps the earlier of the parent expiry and the callee ttl', () => {
    const short = delegate(alice, { actions: ['tool:search.web'], ttl: '10m' }, { now: NOW });
    expect(short.expiresAt).toBe(new Date(NOW + 10 * 60_000).toISOString());
    const long = delegate(alice, { actions: ['tool:search.web'], ttl: '3d' }, { now: NOW });
    expect(long.expiresAt).toBe(alice.expiresAt);
  });

  it('refuses to delegate an expired grant, and an expired grant allows nothing', () => {
    const later = NOW + 9 * HOUR;
    expect(grantAllows(alice, 'tool:search.web', later)).toBe(false);
    expect(() => delegate(alice, ['tool:search.web'], { now: later })).toThrow(GrantExpiredError);
    expect(() => delegate(alice, ['tool:search.web'], { now: later })).toThrow(
      /expired at 2026-01-01T17:00:00.000Z/,
    );
  });

  it('stops at the depth limit', () => {
    let grant = alice;
    for (let depth = 1; depth <= 3; depth++)
      grant = delegate(grant, ['tool:search.web'], { now: NOW, maxDepth: 3 });
    expect(grant.depth).toBe(3);
    expect(() => delegate(grant, ['tool:search.web'], { now: NOW, maxDepth: 3 })).toThrow(
      DelegationDepthError,
    );
    expect(() => delegate(grant, ['tool:search.web'], { now: NOW, maxDepth: 3 })).toThrow(
      /4 deep, over the limit of 3/,
    );
  });

  it('gives the same content the same id, and detects an altered grant', () => {
    const again = delegate(
      alice,
      { holder: 'agent:writer', actions: ['tool:search.web', 'handoff:billing'] },
      { now: NOW },
    );
    const once = delegate(
      alice,
      { holder: 'agent:writer', actions: ['tool:search.web', 'handoff:billing'] },
      { now: NOW },
    );
    expect(again.id).toBe(once.id);
    expect(parseGrant(JSON.parse(JSON.stringify(once)))).toEqual(once);
    const widened = { ...JSON.parse(JSON.stringify(once)), actions: ['*'] };
    expect(() => parseGrant(widened)).toThrow(/does not match its content/);
  });
});

describe('identities', () => {
  it('read kind:name principals and refuse unknown kinds', () => {
    expect(parsePrincipal('user:alice', 'acme')).toEqual({ kind: 'user', name: 'alice', tenant: 'acme' });
    expect(parsePrincipal('service:billing-bot', 'acme').kind).toBe('service');
    expect(() => parsePrincipal('robot:r2', 'acme')).toThrow(UnknownPrincipalError);
    expect(() => parsePrincipal('alice', 'acme')).toThrow(/kind:name/);
  });

  it('chain agents for the principal that started the work', () => {
    const planner = identityChain('acme', 'agent:planner', ['user:alice']);
    const writer = actingFor(planner, 'agent:writer');
    expect(describeChain(writer)).toBe('agent:writer for agent:planner for user:alice');
    expect(chainRoot(writer)).toBe('user:alice');
    expect(() => actingFor(planner, 'writer')).toThrow(UnknownPrincipalError);
  });
});
