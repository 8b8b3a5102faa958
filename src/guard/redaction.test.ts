import { describe, expect, it } from 'vitest';
import type { GuardrailContext } from './guardrail.ts';
import { luhnValid, redaction, redactText, REDACTION_PATTERNS } from './redaction.ts';

const context = { stage: 'tool.after' } as GuardrailContext;

describe('luhnValid', () => {
  it('accepts card numbers and rejects digit runs that only look like them', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('5500005555555559')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('1234567890123')).toBe(false);
    expect(luhnValid('411111111111')).toBe(false); // 12 digits: too short for a card
  });
});

describe('redaction', () => {
  it('replaces emails, Luhn-valid card numbers (grouped or not) and keys, counting each kind', () => {
    const counts: Record<string, number> = {};
    const patterns = [REDACTION_PATTERNS.secrets, REDACTION_PATTERNS.emails, REDACTION_PATTERNS.cards];
    const text =
      'Mail a.b+tag@mail.example.co.uk, cards 4111-1111-1111-1111 and 5500005555555559, order 1234567890123, ' +
      'keys sk-ant-api03-abcdefghijklmnop1234, ghp_abcdefghijklmnopqrstuvwxyz0123456789, AKIAIOSFODNN7EXAMPLE, ' +
      'header "Authorization: Bearer abcdef0123456789abcdef".';
    expect(redactText(text, patterns, counts)).toBe(
      'Mail [email], cards [card] and [card], order 1234567890123, keys [secret], [secret], [secret], ' +
        'header "Authorization: Bearer [secret]".',
    );
    expect(counts).toEqual({ email: 1, card: 2, secret: 4 });
  });

  it('rewrites every string inside a value, and passes a value with nothing to redact', async () => {
    const guard = redaction({ cards: false, patterns: [{ name: 'iban', pattern: /\bDE\d{20}\b/ }] });
    const verdict = await guard.check(
      { to: ['x@y.io'], iban: 'DE89370400440532013000', card: '4111111111111111', n: 7 },
      context,
    );
    expect(verdict).toEqual({
      verdict: 'rewrite',
      value: { to: ['[email]'], iban: '[iban]', card: '4111111111111111', n: 7 },
      reason: 'redacted 1 email, 1 iban',
      data: { redacted: { email: 1, iban: 1 } },
    });
    expect(await guard.check({ note: 'nothing here' }, context)).toEqual({ verdict: 'pass' });
  });

  it('refuses a configuration with nothing to redact', () => {
    expect(() => redaction({ emails: false, cards: false, secrets: false })).toThrow(
      'redaction() has nothing to redact',
    );
  });
});
