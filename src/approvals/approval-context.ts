import type { JournalEvent } from '../journal/events.ts';

/** Why an agent asks for a call: who asks, in which turn, and what it last said (its reasoning, its text). */
export interface ApprovalContext {
  /** The agent that asked for the call. */
  agent: string;
  /** The agent's model turn that asked for it. */
  turn?: number;
  /** The model's id of the call. */
  callId?: string;
  /** The text and reasoning of the reply that asked for the call. */
  message?: string;
}

/** The agent's last reply before `seq`, as text: what the model said and reasoned when it asked for the call. */
export function approvalContext(
  events: readonly JournalEvent[],
  request: { seq: number; actor: string; op: number },
): ApprovalContext {
  let reply: JournalEvent<'llm.called'> | undefined;
  for (const event of events) {
    if (event.seq >= request.seq) break;
    if (event.type === 'llm.called' && event.actor === request.actor) reply = event;
  }
  const asked = events.find(
    (event): event is JournalEvent<'tool.requested'> =>
      event.type === 'tool.requested' && event.payload.op === request.op && event.seq <= request.seq,
  );
  const callId = asked?.payload.callId;
  const message = reply ? replyText(reply.payload.messages.at(-1)) : undefined;
  return {
    agent: request.actor,
    ...(reply ? { turn: reply.payload.turn } : {}),
    ...(callId === undefined ? {} : { callId }),
    ...(message ? { message } : {}),
  };
}

/** The text and reasoning parts of a model reply (an assistant message), in order. */
export function replyText(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || !('content' in message)) return undefined;
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content
    .map((part: unknown) =>
      typeof part === 'object' &&
      part !== null &&
      'type' in part &&
      (part.type === 'text' || part.type === 'reasoning') &&
      'text' in part &&
      typeof part.text === 'string'
        ? part.text
        : undefined,
    )
    .filter((text): text is string => text !== undefined && text.trim() !== '');
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}
