import { canonicalJson } from '../journal/canonical-json.ts';

/** Counts tokens of a text. */
export type TokenCounter = (text: string) => number;

/**
 * An estimate of a text's token count for budgeting (about 4 characters or 0.75 words a token in
 * English, the larger of the two). Not a tokenizer: pass a real one where budgets must be exact.
 */
export const estimateTokens: TokenCounter = (text) => {
  if (text.length === 0) return 0;
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(1, Math.ceil(Math.max(text.length / 4, words / 0.75)));
};

/**
 * The text of a model request, for embedding and estimating: a string as it is; `prompt`; or the
 * text parts of `messages` (AI SDK ModelMessage shape), one per line, `role: text`. Anything else
 * as canonical JSON.
 */
export function requestText(request: unknown, options: { includeSystem?: boolean } = {}): string {
  if (typeof request === 'string') return request;
  if (typeof request === 'object' && request !== null) {
    const { prompt, messages, system } = request as {
      prompt?: unknown;
      messages?: unknown;
      system?: unknown;
    };
    const lines: string[] = [];
    if (options.includeSystem && typeof system === 'string') lines.push(`system: ${system}`);
    if (typeof prompt === 'string') lines.push(prompt);
    if (Array.isArray(messages)) {
      for (const message of messages as { role?: unknown; content?: unknown }[]) {
        if (message?.role === 'system' && !options.includeSystem) continue;
        const text = contentText(message?.content);
        if (text) lines.push(`${typeof message?.role === 'string' ? message.role : 'user'}: ${text}`);
      }
    }
    if (lines.length > 0) return lines.join('\n');
  }
  return canonicalJson(request ?? null, 'The model request');
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: unknown; text?: unknown }) =>
      part?.type === 'text' && typeof part.text === 'string' ? part.text : '',
    )
    .filter(Boolean)
    .join(' ');
}
