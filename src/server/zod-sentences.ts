import type { z } from 'zod';

/** zod's own wording (English locale): anything else is a message a schema gave itself. */
const ZOD_WORDING = /^(Invalid|Too (big|small)|Unrecognized key)/;
const MOST = 3;

/**
 * A zod error as sentences a person can act on: which field, what it must be, and what was sent.
 * `where` names what was checked ('the request body', 'the query'); `accepted` lists the fields the
 * object takes, for an unknown field. At most three problems are told, then how many more there are.
 *
 * @example describeZodError(error, { where: 'the request body' })
 * // "`priority` must be an integer, not text (\"high\")."
 */
export function describeZodError(
  error: z.ZodError,
  context: { where: string; accepted?: readonly string[] },
): string {
  const sentences = error.issues.slice(0, MOST).map((issue) => sentenceOf(issue, context));
  const more = error.issues.length - MOST;
  if (more > 0) sentences.push(`There ${more === 1 ? 'is 1 more problem' : `are ${more} more problems`}.`);
  return sentences.join(' ');
}

function sentenceOf(issue: z.core.$ZodIssue, context: { where: string; accepted?: readonly string[] }) {
  const field = issue.path.length === 0 ? undefined : `\`${issue.path.map(String).join('.')}\``;
  const subject = field ?? capitalise(context.where);
  const custom = ZOD_WORDING.test(issue.message) ? undefined : issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined && field)
        return `${capitalise(context.where)} needs ${field} (${article(issue.expected)}).`;
      return `${subject} must be ${article(issue.expected)}, not ${shown(issue.input)}.`;
    case 'unrecognized_keys': {
      const keys = issue.keys.map((key) => `\`${key}\``).join(', ');
      const accepted = context.accepted?.length
        ? ` It accepts ${context.accepted.map((key) => `\`${key}\``).join(', ')}.`
        : '';
      return `${capitalise(context.where)} has ${issue.keys.length === 1 ? 'a field' : 'fields'} it does not know: ${keys}.${accepted}`;
    }
    case 'invalid_value':
      return `${subject} must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values
        .map((value) => JSON.stringify(value))
        .join(', ')}, not ${shown(issue.input)}.`;
    case 'too_small':
    case 'too_big':
      return `${subject} ${bound(issue)}${issue.input === undefined ? '' : ` (it was ${shown(issue.input)})`}.`;
    case 'invalid_format':
      return custom
        ? `${subject} must be ${custom}, not ${shown(issue.input)}.`
        : `${subject} is not ${formatName(issue.format)}: ${shown(issue.input)}.`;
    case 'invalid_union':
      return custom
        ? `${subject} must be ${custom}, not ${shown(issue.input)}.`
        : `${subject} matches none of the forms it may take: ${shown(issue.input)}.`;
    default:
      return `${subject}: ${trimStop(custom ?? issue.message)}.`;
  }
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const strict = issue.inclusive === false;
  const word = small ? (strict ? 'more than' : 'at least') : strict ? 'less than' : 'at most';
  switch (issue.origin) {
    case 'string':
      return `must be ${word} ${plural(limit, 'character')} long`;
    case 'array':
    case 'set':
      return `must have ${word} ${plural(limit, 'item')}`;
    default:
      return `must be ${word} ${limit}`;
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    bigint: 'an integer',
    null: 'null',
  };
  return names[expected] ?? `a value of type ${expected}`;
}

function formatName(format: string): string {
  const names: Record<string, string> = {
    datetime: 'an ISO-8601 time',
    email: 'an e-mail address',
    url: 'a URL',
    uuid: 'a UUID',
    regex: 'in the expected form',
  };
  return names[format] ?? `a valid ${format}`;
}

/** What was sent, briefly: its kind, and the value itself when it is short. */
function shown(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return `an array of ${plural(input.length, 'item')}`;
  if (typeof input === 'object') return 'an object';
  const text = JSON.stringify(input);
  const kind = typeof input === 'string' ? 'text' : typeof input === 'number' ? 'the number' : typeof input;
  if (typeof input === 'number') return `${kind} ${text}`;
  return text.length <= 40 ? `${kind} ${text}` : `${kind} of ${text.length} characters`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function trimStop(text: string): string {
  return text.replace(/\.$/, '');
}
