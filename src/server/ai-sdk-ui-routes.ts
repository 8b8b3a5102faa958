import type { UIMessageChunk } from 'ai';
import { z } from 'zod';
import type { RunStreamPart } from '../engine/run-stream-parts.ts';
import { formatCursor } from '../engine/run-stream-parts.ts';
import { HttpError } from './http-error.ts';
import { openLiveStream } from './live-stream-routes.ts';
import { parseWith, readJson } from './read-json.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';
import { UiMessageTranslator } from './ui-message-chunks.ts';
import type { Caller } from './authenticate.ts';

/** A `useChat` request (`DefaultChatTransport`): the chat's id is the run's id. */
export const ChatRequestBody = z.looseObject({
  id: z.string().min(1).max(200).describe('The run the conversation is (useChat id)'),
  messages: z
    .array(
      z.looseObject({
        id: z.string().max(200),
        role: z.enum(['user', 'assistant', 'system']),
        parts: z.array(z.looseObject({ type: z.string() })).max(1000),
      }),
    )
    .max(10_000),
  trigger: z.string().optional(),
  messageId: z.string().optional(),
});

export const ChatQuery = z.strictObject({
  agent: z.string().max(200).optional().describe('Only this agent’s model and tool calls'),
  signal: z.string().max(200).optional().describe('The signal a user message is sent as (default `message`)'),
  token: z.string().max(2048).optional(),
});

/**
 * The AI SDK's UI message stream over a run, for `useChat` (`@ai-sdk/react`): the chat's id is
 * the run's id. `POST /api/chat` sends the last user message as the signal `message` (payload
 * `{ text }`, idempotent per message id) and decides the approvals the user answered, then streams
 * the run's answer until it parks again (or ends). `GET /api/chat/{runId}/stream` resumes the
 * answer in progress after a page reload (204 when the run is not answering).
 */
export function aiSdkUiRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  app.post('/api/chat', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(ChatQuery, c.req.query());
    const body = await readJson(c.req.raw, ChatRequestBody, parts.maxBodyBytes);
    const run = await baton.getRun(body.id, { tenant: caller.tenant });
    gate.checkRun(caller, 'SignalRun', run);
    const head = formatCursor(run.runId, {
      seq: run.lastSeq,
      part: (await baton.store.runStreams?.partBounds(run.runId))?.last ?? 0,
    });
    const awaited = new Set<string>();
    for (const approval of answeredApprovals(body.messages)) {
      awaited.add(`approval:${approval.approvalId}`);
      await decideOnce(parts, caller, run.runId, approval);
    }
    const last = body.messages.at(-1);
    if (last?.role === 'user') {
      const text = last.parts
        .flatMap((part) => (part.type === 'text' && typeof part.text === 'string' ? [part.text] : []))
        .join('');
      const receipt = await baton.signal(
        run.runId,
        query.signal ?? 'message',
        { text, messageId: last.id },
        {
          as: caller.principal,
          tenant: caller.tenant,
          idempotencyKey: `ui-message:${last.id}`,
        },
      );
      awaited.add(`signal:${receipt.signalId}`);
    }
    if (awaited.size === 0)
      throw new HttpError(
        'INVALID_REQUEST',
        'The request carries no new user message and no approval answer.',
      );
    return uiStream(parts, c.req.raw.signal, run.runId, caller.tenant, head, query.agent, (part) =>
      armedBy(part, awaited),
    );
  });

  app.get('/api/chat/:runId/stream', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(ChatQuery, c.req.query());
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'ReadRun', run);
    if (
      run.status === 'waiting' ||
      run.status === 'completed' ||
      run.status === 'failed' ||
      run.status === 'cancelled' ||
      run.status === 'timed_out' ||
      run.status === 'continued'
    )
      return c.body(null, 204);
    // The answer in progress began with the last message the run took: resume from there.
    const events = await baton.store.readEvents(run.runId, 1, { tenant: caller.tenant });
    const name = query.signal ?? 'message';
    const taken = events.findLast(
      (event) => event.type === 'signal.received' && (event.payload as { name?: string }).name === name,
    );
    let seen = taken === undefined;
    return uiStream(parts, c.req.raw.signal, run.runId, caller.tenant, undefined, query.agent, (part) => {
      if (!seen && part.type === 'event' && part.event.seq === taken?.seq) seen = true;
      return seen;
    });
  });
}

/** Streams the run's parts as UI message chunks from when `armed` first says so until the run parks or ends. */
async function uiStream(
  parts: ServerParts,
  signal: AbortSignal,
  runId: string,
  tenant: string,
  after: string | undefined,
  agent: string | undefined,
  armed: (part: RunStreamPart) => boolean,
): Promise<Response> {
  const { UI_MESSAGE_STREAM_HEADERS } = await import('ai');
  const translator = new UiMessageTranslator(agent === undefined ? {} : { agent });
  let started = false;
  let done = false;
  const frame = (chunk: UIMessageChunk): string => `data: ${JSON.stringify(chunk)}\n\n`;
  const frames = (part: RunStreamPart): string => {
    if (done) return '';
    const chunks: UIMessageChunk[] = [];
    if (!started) {
      if (!armed(part)) return ': waiting for the run to take the message\n\n';
      started = true;
      chunks.push({ type: 'start', messageMetadata: { runId } });
    }
    if ((part.type === 'waiting' || part.type === 'end') && started) {
      done = true;
      chunks.push(...translator.finish(), { type: 'finish' });
      return `${chunks.map(frame).join('')}data: [DONE]\n\n`;
    }
    chunks.push(...translator.translate(part));
    return chunks.length > 0 ? chunks.map(frame).join('') : `: ${part.type}\n\n`;
  };
  const { 'content-type': _type, ...headers } = UI_MESSAGE_STREAM_HEADERS;
  return openLiveStream(parts, signal, runId, tenant, after, frames, { headers, stopWhen: () => done });
}

function armedBy(part: RunStreamPart, awaited: ReadonlySet<string>): boolean {
  if (part.type !== 'event') return false;
  const payload = part.event.payload as { signalId?: string; approvalId?: string };
  if (part.event.type === 'signal.received') return awaited.has(`signal:${String(payload.signalId)}`);
  if (part.event.type === 'approval.decided') return awaited.has(`approval:${String(payload.approvalId)}`);
  return false;
}

interface ApprovalAnswer {
  approvalId: string;
  approved: boolean;
  reason?: string;
}

/** The approvals the user answered in the last assistant message (`addToolApprovalResponse`). */
function answeredApprovals(
  messages: readonly { role: string; parts: readonly Record<string, unknown>[] }[],
): ApprovalAnswer[] {
  const assistant = messages.findLast((message) => message.role === 'assistant');
  if (!assistant) return [];
  return assistant.parts.flatMap((part) => {
    const approval = part.approval as { id?: unknown; approved?: unknown; reason?: unknown } | undefined;
    if (
      part.state !== 'approval-responded' ||
      typeof approval?.id !== 'string' ||
      typeof approval.approved !== 'boolean'
    )
      return [];
    return [
      {
        approvalId: approval.id,
        approved: approval.approved,
        ...(typeof approval.reason === 'string' ? { reason: approval.reason } : {}),
      },
    ];
  });
}

async function decideOnce(
  parts: ServerParts,
  caller: Caller,
  runId: string,
  answer: ApprovalAnswer,
): Promise<void> {
  try {
    await parts.inbox.decide(caller, runId, answer.approvalId, {
      decision: answer.approved ? 'approve' : 'deny',
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    });
  } catch (error) {
    // The same answer sent again (a retried request) finds the approval decided: nothing to do.
    if ((error as { code?: string }).code !== 'APPROVAL_ALREADY_DECIDED') throw error;
  }
}
