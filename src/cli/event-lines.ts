import type { JournalEvent } from '../journal/events.ts';

/** How a line is emphasised: bold and dim on a terminal, plain text elsewhere. */
export type LineStyle = (style: 'bold' | 'dim', text: string) => string;

const plain: LineStyle = (_style, text) => text;

function short(value: unknown, max = 70): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * One readable line for what agents, models and tools did (routing, parallel branches, agent turns,
 * model calls, tool calls and their authorization, guardrails, approvals, calls in doubt): what
 * `baton history` shows in its summary column and the demo prints as its live tree. Undefined for
 * the engine's own events (steps, timers, signals), which event-summary.ts describes.
 *
 * @example agentEventLine(event) // '✦ model call 1 → docs.search 120+20 tokens, 340 ms'
 */
export function agentEventLine(event: JournalEvent, style: LineStyle = plain): string | undefined {
  const p = event.payload as Record<string, any>;
  const { bold, dim } = {
    bold: (text: string) => style('bold', text),
    dim: (text: string) => style('dim', text),
  };
  try {
    switch (event.type) {
      case 'route.decided':
        return `◆ route ${p.name} → ${bold(String(p.chosen))}${p.reason ? dim(`  (${short(p.reason, 80)})`) : ''}`;
      case 'parallel.started':
        return `⇉ parallel ${p.name}: ${(p.branches as string[]).join(', ')}`;
      case 'parallel.completed':
        return `⇇ parallel ${p.name}: ${(p.succeeded as string[]).length} succeeded`;
      case 'agent.started':
        return `▸ agent ${bold(String(p.name))} ${dim(`(${p.model})`)}`;
      case 'llm.called': {
        const calls = (p.response.toolCalls as { name: string }[]).map((call) => call.name);
        const what = calls.length ? `→ ${calls.join(', ')}` : '→ answer';
        const usage = p.usage as { inputTokens: number; outputTokens: number };
        return `✦ model call ${p.turn} ${what} ${dim(`${usage.inputTokens}+${usage.outputTokens} tokens, ${p.latencyMs} ms`)}`;
      }
      case 'llm.started':
        return `… model call ${p.turn} sent to ${p.provider}:${p.model}${p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}`;
      case 'tool.started':
        return `▶ ${p.name} running${p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}`;
      case 'llm.failed':
        return `✗ model call failed: ${short(p.error?.message ?? '')}`;
      case 'tool.requested':
        return `⚙ ${p.name} ${dim(short(p.args, 60))}${p.effect === 'irreversible' ? ' [irreversible]' : ''}`;
      case 'tool.called':
        return `✓ ${p.name} ${dim(`${p.latencyMs} ms`)}`;
      case 'tool.failed':
        return `✗ ${p.name}: ${short(p.error.message)}`;
      case 'tool.authorized':
        return `⚖ ${p.name}: ${p.decision} ${dim(short((p.policies ?? []).join(', ')))}`;
      case 'tool.inDoubt':
        return p.resolution === 'park'
          ? `⚠ ${p.name} in doubt after a crash: ${bold('waiting for a person')} (baton resolve, op ${p.op})`
          : `⚠ ${p.name} in doubt after a crash: ${p.resolution}`;
      case 'tool.resolved':
        return `▶ ${p.name} resolved: ${p.action}${p.by ? ` by ${p.by}` : ''}`;
      case 'guard.verdict':
        return `🛡 ${p.guardrail ?? p.name}: ${p.verdict ?? p.type ?? ''} ${dim(short(p.reason ?? ''))}`.trimEnd();
      case 'approval.requested':
        return `⏸ ${bold('waiting for approval')} ${p.approvalId}: ${short(p.summary, 60)}`;
      case 'approval.decided':
        return `▶ ${p.decision} by ${p.by}${p.comment ? dim(` — ${short(p.comment, 50)}`) : ''}`;
      case 'agent.completed':
        return `◂ ${p.name} done ${dim(`${p.turns} turn(s), $${Number(p.costUsd).toFixed(4)}`)}`;
      case 'agent.failed':
        return `◂ ${p.name} failed: ${short(p.error?.message ?? '')}`;
      case 'agent.handedOff':
        return `↪ ${p.name} hands off to ${p.to}`;
      default:
        return undefined;
    }
  } catch {
    // A payload written by another version may lack a field: the generic summary takes over.
    return undefined;
  }
}
