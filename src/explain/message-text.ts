import type { JournalMessage } from '../agents/messages.ts';

/** A part of a model message, loosely: the shapes the agents layer journals. */
interface Part {
  type: string;
  text?: string;
  toolCallId?: string;
  toolName?: string;
  input?: unknown;
  output?: { type: string; value?: unknown; reason?: string };
}

function partsOf(message: JournalMessage | undefined): Part[] {
  const content = (message as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Part[]) : [];
}

/** The text parts of a message, joined. */
export function messageText(message: JournalMessage | undefined): string {
  return partsOf(message)
    .filter((part) => part.type === 'text')
    .map((part) => part.text ?? '')
    .join('');
}

/** The reasoning parts of an assistant message (the model's stated reasoning), joined. */
export function messageReasoning(message: JournalMessage | undefined): string {
  return partsOf(message)
    .filter((part) => part.type === 'reasoning')
    .map((part) => part.text ?? '')
    .join('\n');
}

/** The tool calls of an assistant message. */
export function messageToolCalls(
  message: JournalMessage | undefined,
): { callId: string; name: string; args: unknown }[] {
  return partsOf(message)
    .filter((part) => part.type === 'tool-call')
    .map((part) => ({ callId: part.toolCallId ?? '', name: part.toolName ?? '', args: part.input }));
}

/** The results a tool message carries: the call they answer, and the value or error. */
export function messageToolResults(
  message: JournalMessage | undefined,
): { callId: string; name: string; ok: boolean; value: unknown }[] {
  return partsOf(message)
    .filter((part) => part.type === 'tool-result')
    .map((part) => {
      const output = part.output;
      const ok =
        output !== undefined && !output.type.startsWith('error') && output.type !== 'execution-denied';
      return {
        callId: part.toolCallId ?? '',
        name: part.toolName ?? '',
        ok,
        value: output?.value ?? output?.reason,
      };
    });
}

/** One line for a message: the user's text, a tool's result, the instructions, the model's answer. */
export function summarizeMessage(message: JournalMessage | undefined, max = 200): string {
  const role = (message as { role?: string } | undefined)?.role ?? '?';
  switch (role) {
    case 'system':
      return clip(`instructions: ${messageText(message)}`, max);
    case 'tool':
      return clip(
        messageToolResults(message)
          .map((result) => `${result.name} ${result.ok ? '→' : 'failed:'} ${brief(result.value)}`)
          .join('; '),
        max,
      );
    case 'assistant': {
      const calls = messageToolCalls(message).map((call) => `${call.name}(${brief(call.args)})`);
      const text = messageText(message);
      return clip([text, ...calls].filter((part) => part !== '').join(' · '), max);
    }
    default:
      return clip(messageText(message), max);
  }
}

/** Compact JSON (a string as itself), on one line. */
export function brief(value: unknown, max = 200): string {
  if (value === undefined) return '';
  // JSON.stringify gives undefined for a function or a symbol only.
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
  return clip(text, max);
}

/** Text on one line, cut to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}
