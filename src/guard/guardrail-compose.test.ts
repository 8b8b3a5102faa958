import { describe, expect, it } from 'vitest';
import { denyList } from './deny-list.ts';
import { all, any, sequence } from './guardrail-compose.ts';
import { block, guardrail, pass, rewrite, type GuardrailContext } from './guardrail.ts';
import { maxLength } from './length-guardrail.ts';
import { redaction } from './redaction.ts';
import { runGuardrails } from './run-guardrails.ts';

const context = { stage: 'agent.output' } as GuardrailContext;
const upper = guardrail('upper', (value: string) => rewrite(value.toUpperCase(), 'shouting'));
const lower = guardrail('lower', (value: string) => rewrite(value.toLowerCase(), 'whispering'));

describe('composing guardrails', () => {
  it('sequence: each sees the last rewrite; the first block stops it', async () => {
    const redactThenLimit = sequence(redaction(), maxLength({ chars: 10 }));
    expect(await redactThenLimit.check('mail me: dana@example.com', context)).toMatchObject({
      verdict: 'block',
      reason: 'max-length: it is 16 characters long, over the limit of 10 characters',
    });
    expect(await sequence(redaction(), upper).check('hi dana@example.com', context)).toMatchObject({
      verdict: 'rewrite',
      value: 'HI [EMAIL]',
      reason: 'redaction: redacted 1 email; upper: shouting',
    });
    expect(redactThenLimit.name).toBe('sequence(redaction, max-length)');
  });

  it('all: every one checks the same value; any block blocks with every reason; conflicting rewrites block', async () => {
    const both = all(denyList(['refund']), maxLength({ chars: 5 }));
    expect(await both.check('please refund me', context)).toMatchObject({
      verdict: 'block',
      reason:
        'deny-list: it contains "refund"; max-length: it is 16 characters long, over the limit of 5 characters',
    });
    expect(
      await all(
        upper,
        guardrail('ok', () => true),
      ).check('hi', context),
    ).toMatchObject({ verdict: 'rewrite', value: 'HI' });
    expect(await all(upper, lower).check('Hi', context)).toMatchObject({
      verdict: 'block',
      reason: expect.stringContaining('chain rewrites with sequence()'),
    });
  });

  it('any: the first that passes wins; all blocking blocks', async () => {
    const shortOrApproved = any(
      maxLength({ chars: 5 }),
      guardrail('approved', (value: string) => (value.startsWith('OK:') ? pass() : block('not approved'))),
    );
    expect(await shortOrApproved.check('OK: a long message', context)).toMatchObject({
      verdict: 'pass',
      reason: 'passed by approved',
    });
    expect(await shortOrApproved.check('a long message', context)).toMatchObject({
      verdict: 'block',
      reason: 'max-length: it is 14 characters long, over the limit of 5 characters; approved: not approved',
    });
  });

  it('a member that throws fails the whole closed; members of other stages are left out', async () => {
    const throwing = guardrail('throws', () => {
      throw new Error('boom');
    });
    const outcome = await runGuardrails([all(throwing, upper)], 'x', context);
    expect(outcome.blocked).toMatchObject({
      guardrail: 'all(throws, upper)',
      verdict: 'block',
      error: { message: 'boom' },
    });
    const onlyTools = guardrail('tools-only', () => block('never here'), { stages: ['tool.before'] });
    expect(await sequence(onlyTools, upper).check('x', context)).toMatchObject({
      verdict: 'rewrite',
      value: 'X',
    });
    expect((await runGuardrails([onlyTools], 'x', context)).records).toEqual([]);
  });

  it('plain functions are guardrails: true passes, false blocks, anything else is an error', async () => {
    const outcome = await runGuardrails(
      [guardrail('truthy', () => true), guardrail('falsy', () => false)],
      'x',
      context,
    );
    expect(outcome.records.map((record) => [record.guardrail, record.verdict, record.reason])).toEqual([
      ['truthy', 'pass', undefined],
      ['falsy', 'block', 'blocked by falsy'],
    ]);
    const nonsense = await runGuardrails([guardrail('nonsense', () => 42 as never)], 'x', context);
    expect(nonsense.blocked?.reason).toContain("Guardrail 'nonsense' returned 42");
  });
});
