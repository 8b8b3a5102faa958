import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyLoadError, UnknownActionError, UnknownPrincipalError } from '../src/access/access-errors.ts';
import type { BatonAction } from '../src/access/access-request.ts';
import { createGrant } from '../src/access/grant.ts';
import { identityChain } from '../src/access/identity-chain.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';

const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);

const SUPPORT = `// Support agents: read anything, refund small amounts, mail only inside the company.
@id("agents-use-tools")
permit (principal is Agent, action == Action::"InvokeTool", resource)
when { principal in context.tenant && context.root like "user:*" };

@id("no-outside-email")
forbid (principal, action == Action::"InvokeTool", resource == Tool::"email.send")
unless { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };

@id("irreversible-needs-a-person")
forbid (principal is Agent, action == Action::"InvokeTool", resource)
when { resource.effect == "irreversible" && context.depth > 1 };
`;

const RUNS = `permit (principal is User, action in [Action::"ReadRun", Action::"SignalRun"], resource is Run)
when { resource in context.tenant && resource.principal == context.actor };

permit (principal, action == Action::"HandOff", resource is Agent) when { resource in context.tenant };

permit (principal is User, action == Action::"Approve", resource is Run) when { context.approval == "refund" };
`;

let directory: string;
let engine: PolicyEngine;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-cedar-'));
  await writeFile(join(directory, 'support.cedar'), SUPPORT);
  await writeFile(join(directory, 'runs.cedar'), RUNS);
  engine = await PolicyEngine.load({
    files: [join(directory, 'support.cedar'), join(directory, 'runs.cedar')],
  });
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const writer = identityChain('acme', 'agent:writer', ['agent:planner', 'user:alice']);
const billing = identityChain('acme', 'agent:billing', ['user:alice']);

function invoke(
  chain = billing,
  name = 'search.web',
  extra: { effect?: 'read' | 'write' | 'irreversible'; args?: unknown } = {},
) {
  return {
    chain,
    action: 'InvokeTool' as const,
    resource: { kind: 'tool' as const, name, ...extra },
    now: NOW,
  };
}

describe('loading Cedar policies', () => {
  it('names policies by @id, or by file and line', () => {
    expect(engine.policies.map((policy) => policy.id)).toEqual([
      'agents-use-tools',
      'no-outside-email',
      'irreversible-needs-a-person',
      'runs.cedar:1',
      'runs.cedar:4',
      'runs.cedar:6',
    ]);
    expect(engine.policy('no-outside-email')).toMatchObject({ line: 6, effect: 'forbid' });
  });

  it('reports a syntax error with file, line and column', () => {
    const broken = '  when { context.root == "ünïcödé" && context.depth > };';
    const text = `// Ünïcödé comment\npermit (principal, action, resource);\n\npermit (principal, action, resource)\n${broken}\n`;
    const column = broken.lastIndexOf('}') + 1; // counted in characters, though Cedar counts UTF-8 bytes
    let error: unknown;
    try {
      PolicyEngine.fromSources([{ name: 'policies/broken.cedar', text }]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyLoadError);
    const [problem] = (error as PolicyLoadError).problems;
    expect(problem).toMatchObject({ file: 'policies/broken.cedar', line: 5, column });
    expect((error as Error).message).toContain(`policies/broken.cedar:5:${column}: unexpected token \`}\``);
  });

  it('reports a policy that does not validate against the schema at its place', () => {
    const good = 'permit (principal, action == Action::"ReadRun", resource);\n';
    const bad =
      '// prüfung: €\n\npermit (principal is Agent, action == Action::"InvokeTool", resource)\n  when { resource.price > 10 };\n';
    let error: unknown;
    try {
      PolicyEngine.fromSources([
        { name: 'good.cedar', text: good },
        { name: 'bad.cedar', text: bad },
      ]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyLoadError);
    const problems = (error as PolicyLoadError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'bad.cedar', line: 4, column: 10, policyId: 'bad.cedar:3' });
    expect(problems[0]!.message).toMatch(/price/);
  });

  it('reports an unknown entity type or action', () => {
    expect(() =>
      PolicyEngine.fromSources([{ name: 'a.cedar', text: 'permit (principal is Robot, action, resource);' }]),
    ).toThrow(/a\.cedar:1:\d+: .*Robot/);
    expect(() =>
      PolicyEngine.fromSources([
        { name: 'b.cedar', text: 'permit (principal, action == Action::"DropTables", resource);' },
      ]),
    ).toThrow(/b\.cedar:1:\d+: .*DropTables/);
  });

  it('reports a missing file and a repeated @id', async () => {
    await expect(PolicyEngine.load({ files: [join(directory, 'missing.cedar')] })).rejects.toThrow(
      /missing\.cedar: cannot be read/,
    );
    const twice =
      '@id("same")\npermit (principal, action, resource);\n@id("same")\nforbid (principal, action, resource);\n';
    expect(() => PolicyEngine.fromSources([{ name: 'twice.cedar', text: twice }])).toThrow(
      /twice\.cedar:3:1: policy id 'same' is already used at twice\.cedar:1/,
    );
  });
});

describe('authorizing with Cedar', () => {
  it('allows by a permit and names it', () => {
    expect(engine.authorize(invoke())).toMatchObject({
      decision: 'allow',
      reason: 'policy',
      policies: ['agents-use-tools'],
      errors: [],
    });
  });

  it('denies by a forbid on the call arguments and names it', () => {
    const outside = engine.authorize(
      invoke(billing, 'email.send', { args: { to: 'drop@evil.example', body: 'keys' } }),
    );
    expect(outside).toMatchObject({ decision: 'deny', reason: 'policy', policies: ['no-outside-email'] });
    const inside = engine.authorize(invoke(billing, 'email.send', { args: { to: 'bob@acme.com' } }));
    expect(inside.decision).toBe('allow');
  });

  it('denies by default when no policy permits', () => {
    const service = identityChain('acme', 'service:cron');
    expect(engine.authorize(invoke(service))).toMatchObject({
      decision: 'deny',
      reason: 'default deny',
      policies: [],
    });
    const none = PolicyEngine.fromSources([]);
    expect(none.authorize(invoke())).toMatchObject({ decision: 'deny', reason: 'default deny' });
  });

  it('sees the depth of the chain', () => {
    expect(engine.authorize(invoke(billing, 'payments.refund', { effect: 'irreversible' })).decision).toBe(
      'allow',
    );
    expect(engine.authorize(invoke(writer, 'payments.refund', { effect: 'irreversible' }))).toMatchObject({
      decision: 'deny',
      policies: ['irreversible-needs-a-person'],
    });
  });

  it('denies a call outside the grant before Cedar runs', () => {
    const grant = createGrant({ tenant: 'acme', actions: ['tool:search.*'] });
    const decision = engine.authorize({ ...invoke(billing, 'payments.refund'), grant });
    expect(decision).toMatchObject({
      decision: 'deny',
      reason: 'outside grant',
      policies: [],
      grantId: grant.id,
      grantAction: 'tool:payments.refund',
    });
    expect(engine.authorize({ ...invoke(billing, 'search.web'), grant })).toMatchObject({
      decision: 'allow',
      grantId: grant.id,
    });
  });

  it('denies under an expired grant and across tenants', () => {
    const expired = createGrant({ tenant: 'acme', actions: ['tool:*'], expiresAt: NOW - 1 });
    expect(engine.authorize({ ...invoke(), grant: expired })).toMatchObject({
      decision: 'deny',
      reason: 'grant expired',
    });
    const globex = createGrant({ tenant: 'globex', actions: ['tool:*'] });
    expect(engine.authorize({ ...invoke(), grant: globex })).toMatchObject({
      decision: 'deny',
      reason: 'other tenant',
    });
    const alice = identityChain('acme', 'user:alice');
    const theirs = {
      kind: 'run' as const,
      runId: 'run_x',
      workflow: 'support',
      tenant: 'globex',
      principal: 'user:alice',
    };
    expect(engine.authorize({ chain: alice, action: 'ReadRun', resource: theirs })).toMatchObject({
      decision: 'deny',
      reason: 'other tenant',
    });
  });

  it('authorizes run actions, hand-offs and approvals', () => {
    const alice = identityChain('acme', 'user:alice');
    const bob = identityChain('acme', 'user:bob');
    const run = {
      kind: 'run' as const,
      runId: 'run_1',
      workflow: 'support',
      tenant: 'acme',
      principal: 'user:alice',
    };
    expect(engine.authorize({ chain: alice, action: 'ReadRun', resource: run })).toMatchObject({
      decision: 'allow',
      grantAction: 'read:support',
    });
    expect(engine.authorize({ chain: bob, action: 'SignalRun', resource: run }).decision).toBe('deny');
    expect(engine.authorize({ chain: alice, action: 'CancelRun', resource: run }).reason).toBe(
      'default deny',
    );
    expect(
      engine.authorize({ chain: billing, action: 'HandOff', resource: { kind: 'agent', name: 'refunds' } }),
    ).toMatchObject({
      decision: 'allow',
      resource: 'agent:refunds',
      grantAction: 'handoff:refunds',
    });
    expect(
      engine.authorize({ chain: bob, action: 'Approve', resource: run, approval: 'refund' }).decision,
    ).toBe('allow');
    expect(
      engine.authorize({ chain: bob, action: 'Approve', resource: run, approval: 'wire' }).decision,
    ).toBe('deny');
  });

  it('reports evaluation errors and skips the policy that erred, as Cedar does', () => {
    const erring = PolicyEngine.fromSources([
      {
        name: 'overflow.cedar',
        text: '@id("ok") permit (principal, action, resource);\n@id("overflows") forbid (principal, action, resource) when { context.depth + 9223372036854775807 > 0 };\n',
      },
    ]);
    const decision = erring.authorize(invoke(writer));
    expect(decision.decision).toBe('allow');
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]).toMatch(/^overflows: .*overflow/);
  });

  it('throws for an unknown action, a resource of the wrong kind, or an unknown principal', () => {
    expect(() => engine.authorize({ ...invoke(), action: 'DropTables' as BatonAction })).toThrow(
      UnknownActionError,
    );
    expect(() => engine.authorize({ ...invoke(), action: 'HandOff' })).toThrow(
      /HandOff acts on a agent, but the request names a tool/,
    );
    expect(() => engine.authorize(invoke({ tenant: 'acme', actor: 'robot:r2', onBehalfOf: [] }))).toThrow(
      UnknownPrincipalError,
    );
  });
});
