/** Small formatters shared by the pages. */

export function formatTime(ms: number | string | undefined): string {
  if (ms === undefined) return '—';
  const date = new Date(ms);
  return date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(6)}`;
  return `$${usd.toFixed(4)}`;
}

/** A count with the reader's thousands separators: 12,345. */
export function formatCount(count: number): string {
  return count.toLocaleString();
}

/**
 * What some model calls cost: "unpriced" when none of them had a price (never "$0", which would
 * claim they were free), and "+ unpriced" after the sum when only some had one.
 */
export function formatCost(line: { usd: number; calls: number; unpriced: number }): string {
  if (line.calls > 0 && line.unpriced === line.calls) return 'unpriced';
  return line.unpriced > 0 ? `${formatUsd(line.usd)} + unpriced` : formatUsd(line.usd);
}

export function shortId(runId: string): string {
  return runId.length > 14 ? `${runId.slice(0, 14)}…` : runId;
}

/** The text of a model message (its text parts; tool calls and results summarized). */
export function messageText(message: unknown): string {
  const value = message as { content?: unknown };
  if (typeof value?.content === 'string') return value.content;
  if (!Array.isArray(value?.content)) return JSON.stringify(message, null, 2);
  return value.content
    .map((part: any) => {
      if (part?.type === 'text' || part?.type === 'reasoning') return part.text as string;
      if (part?.type === 'tool-call')
        return `→ ${part.toolName}(${typeof part.input === 'string' ? part.input : JSON.stringify(part.input)})`;
      if (part?.type === 'tool-result')
        return `← ${part.toolName}: ${JSON.stringify(part.output?.value ?? part.output)}`;
      return JSON.stringify(part);
    })
    .join('\n');
}

/** A value for display: strings as they are, anything else as JSON. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? '';
}
