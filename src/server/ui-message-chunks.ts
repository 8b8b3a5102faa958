import type { UIMessageChunk } from 'ai';
import type { JournalEvent } from '../journal/events.ts';
import type { RunStreamPart } from '../engine/run-stream-parts.ts';

/**
 * Turns a run's stream into the AI SDK's UI message stream chunks (what `useChat` reads): a model
 * call is a step (`start-step` … `finish-step`) with its text and reasoning as they form, tool
 * calls with their arguments as they form, their input (`tool.requested`) and output
 * (`tool.called`, `tool.failed`), approvals of gated tool calls (`tool-approval-request`), and the
 * workflow's progress as `data-progress` parts. A model call a dead worker left open is undone
 * (`reset-step`): the run sends it again when it resumes. With `agent`, only that agent's calls.
 */
export class UiMessageTranslator {
  readonly #agent: string | undefined;
  /** Open text or reasoning block of each model call (op → block id). */
  readonly #text = new Map<number, string>();
  readonly #reasoning = new Map<number, string>();
  readonly #steps = new Set<number>();
  /** Tool calls by op of their `tool.requested` (approvals of that op refer to them). */
  readonly #callsByOp = new Map<number, string>();
  readonly #shownCalls = new Set<string>();

  constructor(options: { agent?: string } = {}) {
    this.#agent = options.agent;
  }

  translate(part: RunStreamPart): UIMessageChunk[] {
    if ('agent' in part && this.#agent !== undefined && part.agent !== this.#agent) return [];
    switch (part.type) {
      case 'model-start':
        return this.#closeCall(part.op, false).concat(this.#openStep(part.op));
      case 'text-delta':
        return [
          ...this.#open(this.#text, 'text', part.op),
          { type: 'text-delta', id: this.#text.get(part.op)!, delta: part.delta },
        ];
      case 'reasoning-delta':
        return [
          ...this.#open(this.#reasoning, 'reasoning', part.op),
          { type: 'reasoning-delta', id: this.#reasoning.get(part.op)!, delta: part.delta },
        ];
      case 'tool-input-start':
        this.#shownCalls.add(part.callId);
        return [{ type: 'tool-input-start', toolCallId: part.callId, toolName: part.toolName }];
      case 'tool-input-delta':
        return [{ type: 'tool-input-delta', toolCallId: part.callId, inputTextDelta: part.delta }];
      case 'model-finish':
      case 'model-error':
        return this.#closeCall(part.op, true);
      case 'interrupted':
        return part.ops.flatMap((op) => (this.#steps.has(op) ? this.#undo(op) : []));
      case 'progress':
        return [{ type: 'data-progress', data: part.data }];
      case 'event':
        return this.#event(part.event);
      default:
        return [];
    }
  }

  /** Closes what is still open (the stream ends). */
  finish(): UIMessageChunk[] {
    return [...this.#steps].flatMap((op) => this.#closeCall(op, true));
  }

  #event(event: JournalEvent): UIMessageChunk[] {
    const payload = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'tool.requested': {
        if (this.#agent !== undefined && payload.agent !== this.#agent) return [];
        const callId = String(payload.callId);
        this.#callsByOp.set(Number(payload.op), callId);
        this.#shownCalls.add(callId);
        return [
          {
            type: 'tool-input-available',
            toolCallId: callId,
            toolName: String(payload.name),
            input: payload.args,
          },
        ];
      }
      // A call this stream did not show may be in the message the client continues (after an approval).
      case 'tool.called': {
        const callId = String(payload.callId);
        if (!this.#shownOrUnfiltered(callId)) return [];
        return [{ type: 'tool-output-available', toolCallId: callId, output: toolOutput(payload.messages) }];
      }
      case 'tool.failed': {
        const callId = String(payload.callId);
        if (!this.#shownOrUnfiltered(callId)) return [];
        const error = payload.error as { message?: string } | undefined;
        return [
          { type: 'tool-output-error', toolCallId: callId, errorText: error?.message ?? 'The tool failed.' },
        ];
      }
      case 'approval.requested': {
        const callId = this.#callsByOp.get(Number(payload.op));
        if (callId === undefined) return [];
        return [
          { type: 'tool-approval-request', approvalId: String(payload.approvalId), toolCallId: callId },
        ];
      }
      case 'approval.decided': {
        const callId = this.#callsByOp.get(Number(payload.op));
        if (callId === undefined) return [];
        const approved = payload.decision === 'approved';
        return [
          { type: 'tool-approval-response', approvalId: String(payload.approvalId), approved },
          ...(approved ? [] : [{ type: 'tool-output-denied' as const, toolCallId: callId }]),
        ];
      }
      default:
        return [];
    }
  }

  #shownOrUnfiltered(callId: string): boolean {
    return this.#agent === undefined || this.#shownCalls.has(callId);
  }

  #openStep(op: number): UIMessageChunk[] {
    this.#steps.add(op);
    return [{ type: 'start-step' }];
  }

  #open(blocks: Map<number, string>, kind: 'text' | 'reasoning', op: number): UIMessageChunk[] {
    if (blocks.has(op)) return [];
    const id = `${kind}-${op}-${blocks.size}`;
    blocks.set(op, id);
    return [{ type: kind === 'text' ? 'text-start' : 'reasoning-start', id }];
  }

  #closeCall(op: number, endStep: boolean): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    const text = this.#text.get(op);
    if (text !== undefined) chunks.push({ type: 'text-end', id: text });
    const reasoning = this.#reasoning.get(op);
    if (reasoning !== undefined) chunks.push({ type: 'reasoning-end', id: reasoning });
    this.#text.delete(op);
    this.#reasoning.delete(op);
    if (endStep && this.#steps.delete(op)) chunks.push({ type: 'finish-step' });
    return chunks;
  }

  #undo(op: number): UIMessageChunk[] {
    this.#text.delete(op);
    this.#reasoning.delete(op);
    this.#steps.delete(op);
    return [{ type: 'reset-step' }];
  }
}

/** What a `tool.called` event's tool-result message says the tool returned. */
function toolOutput(messages: unknown): unknown {
  const message = Array.isArray(messages) ? (messages[0] as { content?: unknown } | undefined) : undefined;
  const part = Array.isArray(message?.content)
    ? (message.content[0] as { output?: { value?: unknown } })
    : undefined;
  return part?.output?.value ?? null;
}
