import { InvalidArgumentError } from '../errors.ts';
import { checkStages, mapStrings, type Guardrail, type GuardStage } from './guardrail.ts';

/** A pattern `redaction` replaces, with the placeholder it leaves. */
export interface RedactionPattern {
  name: string;
  pattern: RegExp;
  /** Default `[<name>]`. */
  replacement?: string;
  /** Keeps a match only when this says so (card numbers: the Luhn check). */
  accept?: (match: string) => boolean;
}

const EMAIL: RedactionPattern = {
  name: 'email',
  pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
};

/** 13–19 digits, optionally grouped by spaces or dashes, that pass the Luhn check. */
const CARD: RedactionPattern = {
  name: 'card',
  pattern: /\b\d(?:[ -]?\d){12,18}\b/g,
  accept: (match) => luhnValid(match.replace(/[ -]/g, '')),
};

/** Well-known shapes of API keys and tokens (OpenAI, Anthropic, Stripe, GitHub, Slack, AWS, Google, JWTs, bearer tokens). */
const SECRET: RedactionPattern = {
  name: 'secret',
  pattern: new RegExp(
    [
      String.raw`\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}`,
      String.raw`\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`,
      String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`,
      String.raw`\bgithub_pat_[A-Za-z0-9_]{30,}`,
      String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`,
      String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
      String.raw`\bAIza[0-9A-Za-z_-]{35}`,
      String.raw`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
      String.raw`(?<=\bBearer\s+)[A-Za-z0-9._~+/-]{16,}=*`,
    ].join('|'),
    'g',
  ),
};

/** The built-in patterns by name. */
export const REDACTION_PATTERNS = Object.freeze({ emails: EMAIL, cards: CARD, secrets: SECRET });

export interface RedactionOptions {
  /** Email addresses. Default true. */
  emails?: boolean;
  /** Payment card numbers (13–19 digits passing the Luhn check). Default true. */
  cards?: boolean;
  /** API keys and tokens of well-known shapes. Default true. */
  secrets?: boolean;
  /** More patterns of your own. */
  patterns?: readonly RedactionPattern[];
  name?: string;
  stages?: readonly GuardStage[];
}

/**
 * Replaces emails, card numbers (Luhn-checked, so order numbers are left alone), API keys and
 * tokens, and patterns of your own, in every string of a value: a rewrite, journaled with how
 * many of each it replaced (never what they were). At `tool.after` the model and the journal see
 * only the redacted result.
 *
 * @example redaction({ stages: ['tool.after'], patterns: [{ name: 'iban', pattern: /\bDE\d{20}\b/g }] })
 */
export function redaction(options: RedactionOptions = {}): Guardrail {
  const patterns: RedactionPattern[] = [];
  if (options.secrets !== false) patterns.push(SECRET);
  if (options.emails !== false) patterns.push(EMAIL);
  if (options.cards !== false) patterns.push(CARD);
  for (const custom of options.patterns ?? []) {
    if (!(custom?.pattern instanceof RegExp) || typeof custom.name !== 'string') {
      throw new InvalidArgumentError('A redaction pattern is { name: string, pattern: RegExp }.');
    }
    patterns.push({
      ...custom,
      pattern: custom.pattern.global
        ? custom.pattern
        : new RegExp(custom.pattern.source, `${custom.pattern.flags}g`),
    });
  }
  if (patterns.length === 0)
    throw new InvalidArgumentError('redaction() has nothing to redact: every pattern is turned off.');
  const name = options.name ?? 'redaction';
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages: checkStages(name, options.stages),
    check: (value: unknown) => {
      const counts: Record<string, number> = {};
      const redacted = mapStrings(value, (text) => redactText(text, patterns, counts));
      const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
      if (total === 0) return { verdict: 'pass' as const };
      const summary = Object.entries(counts)
        .map(([kind, count]) => `${count} ${kind}${count === 1 ? '' : 's'}`)
        .join(', ');
      return {
        verdict: 'rewrite' as const,
        value: redacted,
        reason: `redacted ${summary}`,
        data: { redacted: counts },
      };
    },
  });
}

/** Redacts `text` with `patterns` in order, counting replacements by pattern name. */
export function redactText(
  text: string,
  patterns: readonly RedactionPattern[],
  counts: Record<string, number> = {},
): string {
  let result = text;
  for (const entry of patterns) {
    result = result.replace(entry.pattern, (match) => {
      if (entry.accept && !entry.accept(match)) return match;
      counts[entry.name] = (counts[entry.name] ?? 0) + 1;
      return entry.replacement ?? `[${entry.name}]`;
    });
  }
  return result;
}

/** The Luhn checksum of a string of digits (card numbers). */
export function luhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
