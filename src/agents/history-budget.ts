import { InvalidArgumentError } from '../errors.ts';
import { buildContext, type HistoryMessage } from '../routing/context-builder.ts';
import { estimateTokens } from '../routing/request-text.ts';
import type { JournalMessage } from './messages.ts';

/** How much of its history an agent sends with each model call (`agent({ historyBudget })`). */
export interface HistoryBudget {
  /**
   * The most tokens of message text a call sends, by {@link estimateTokens} of each message's
   * text (tool calls and results included, tool definitions not counted).
   */
  tokens: number;
  /** Recent turns kept whatever their relevance, while they fit (besides the latest). Default 3. */
  keepLast?: number;
  /** Weight of recency against relevance when choosing earlier turns, in [0, 1]. Default 0.2. */
  recencyWeight?: number;
}

/** What selective hydration did to one request, journaled with its `llm.called`. */
export interface HydrationSummary {
  /** Tokens of the messages sent. */
  tokens: number;
  /** Tokens the whole history would have been. */
  fullTokens: number;
  /** Messages left out. */
  omitted: number;
}

/** Checks a history budget at the door. */
export function checkHistoryBudget(budget: HistoryBudget, agent: string): HistoryBudget {
  if (typeof budget !== 'object' || budget === null)
    throw new InvalidArgumentError(`Agent '${agent}' has a historyBudget that is not { tokens }.`);
  if (typeof budget.tokens !== 'number' || !Number.isInteger(budget.tokens) || budget.tokens < 1)
    throw new InvalidArgumentError(
      `Agent '${agent}' has historyBudget.tokens ${String(budget.tokens)}; use a whole number ≥ 1.`,
    );
  const keepLast = budget.keepLast ?? 3;
  if (!Number.isInteger(keepLast) || keepLast < 0)
    throw new InvalidArgumentError(
      `Agent '${agent}' has historyBudget.keepLast ${String(keepLast)}; use a whole number ≥ 0.`,
    );
  const weight = budget.recencyWeight ?? 0.2;
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1))
    throw new InvalidArgumentError(
      `Agent '${agent}' has historyBudget.recencyWeight ${String(weight)}; use a number in [0, 1].`,
    );
  return Object.freeze({ ...budget });
}

/**
 * A message as text, for budgets, similarity and judges: its text parts, its tool calls as
 * `name(arguments)` and its tool results as `name → value`, one per line.
 */
export function historyText(message: JournalMessage): string {
  const content = (message as { content: unknown }).content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (
    content as {
      type: string;
      text?: string;
      toolName?: string;
      input?: unknown;
      output?: { value?: unknown; reason?: unknown };
    }[]
  )
    .map((part) => {
      switch (part.type) {
        case 'text':
          return part.text ?? '';
        case 'tool-call':
          return `${part.toolName}(${JSON.stringify(part.input ?? null)})`;
        case 'tool-result': {
          const value = part.output?.value ?? part.output?.reason ?? null;
          return `${part.toolName} → ${typeof value === 'string' ? value : JSON.stringify(value)}`;
        }
        default:
          return '';
      }
    })
    .filter((line) => line !== '')
    .join('\n');
}

/** Tokens of a message's text, as the budget counts them. */
export function messageTokens(message: JournalMessage): number {
  return estimateTokens(historyText(message));
}

/** A turn of the history that is sent whole or not at all: a message and the tool results that answer it. */
interface Unit extends HistoryMessage {
  members: JournalMessage[];
  tokens: number;
}

/**
 * Selective hydration for an agent's request: when its messages' text is over `budget.tokens`,
 * sends the system prompt, the task, the latest turn and, in the budget left, the earlier turns
 * most relevant to what the agent was asked — the task and the latest user message — by
 * {@link buildContext} (lexical similarity and recency), in their original order. An assistant
 * message and the tool results that answer it are kept or left out together, so the request stays
 * well formed. The system prompt, the task and the latest turn are always sent, even when they
 * alone are over the budget.
 *
 * Deterministic: the same history gives the same request, so a replayed turn refers to the same
 * messages (it is answered from the journal either way).
 */
export async function hydrateHistory(
  messages: readonly JournalMessage[],
  budget: HistoryBudget,
): Promise<{ messages: JournalMessage[]; summary?: HydrationSummary }> {
  // messages[0] is the system prompt, messages[1] the task; then the turns.
  const units: Unit[] = [];
  messages.forEach((message, index) => {
    const last = units.at(-1);
    if (index >= 2 && message.role === 'tool' && last) {
      last.members.push(message);
      return;
    }
    units.push({ role: message.role, content: '', members: [message], tokens: 0 });
  });
  for (const unit of units) {
    unit.content = unit.members.map(historyText).join('\n');
    unit.tokens = unit.members.reduce((sum, member) => sum + messageTokens(member), 0);
  }
  const fullTokens = units.reduce((sum, unit) => sum + unit.tokens, 0);
  if (fullTokens <= budget.tokens || units.length <= 3) return { messages: [...messages] };

  const head = units.slice(0, 2);
  const latest = units.at(-1)!;
  const middle = units.slice(2, -1);
  const pinned = head.reduce((sum, unit) => sum + unit.tokens, 0) + latest.tokens;
  let chosen: Unit[] = [];
  let tokens = pinned;
  if (budget.tokens - pinned >= 1) {
    const byText = new Map(middle.map((unit) => [unit.content, unit.tokens]));
    // Relevance is to what the agent is asked: the task, and the latest thing a user said after it
    // (tool results are left out: a long run of similar results would crowd out the rest).
    const asked = [
      head[1]!,
      ...units
        .slice(2)
        .filter((unit) => unit.role === 'user')
        .slice(-1),
    ];
    const built = await buildContext({
      // buildContext keeps 'system' messages whatever they score: none of the middle are pinned.
      messages: middle.map((unit) => ({ ...unit, role: unit.role === 'system' ? 'user' : unit.role })),
      tokens: budget.tokens - pinned,
      query: asked.map((unit) => unit.content).join('\n'),
      keepLast: budget.keepLast ?? 3,
      recencyWeight: budget.recencyWeight ?? 0.2,
      countTokens: (text) => byText.get(text) ?? estimateTokens(text),
    });
    chosen = built.messages;
    tokens += built.tokens;
  }
  const sent = [...head, ...chosen, latest].flatMap((unit) => unit.members);
  return { messages: sent, summary: { tokens, fullTokens, omitted: messages.length - sent.length } };
}
