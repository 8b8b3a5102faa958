import type { ModelTurnRequest } from './model-types.ts';

/** Output tokens reserved for a call that sets no maxOutputTokens. */
const DEFAULT_OUTPUT_TOKENS = 1024;

/**
 * The tokens a model call is expected to use, reserved from its pool before it is sent: the
 * prompt's characters (messages and tool schemas) / 4, plus `maxOutputTokens` (default 1024).
 * The pool is corrected from the usage the provider reports.
 */
export function estimateModelTokens(
  request: Pick<ModelTurnRequest, 'messages' | 'tools' | 'parameters'>,
): number {
  const characters = JSON.stringify(request.messages).length + JSON.stringify(request.tools).length;
  return Math.ceil(characters / 4) + (request.parameters.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS);
}
