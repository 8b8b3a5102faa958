import { InvalidArgumentError } from '../errors.ts';

/** A tool call's result, as `toolUseBehavior` sees it. */
export interface ToolCallResult {
  /** The tool's name as the model called it. */
  name: string;
  callId: string;
  /** False when the tool failed, was denied or refused: `error` says why. */
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** What a `toolUseBehavior` function decides: go on (the model sees the results), or end with `finalOutput`. */
export type ToolsToFinalOutput = { isFinalOutput: false } | { isFinalOutput: true; finalOutput: unknown };

/**
 * Whether a tool's result ends the agent's loop (as the OpenAI Agents SDK's `toolUseBehavior`):
 * `'run_llm_again'` (default) sends the results back to the model; `'stop_on_first_tool'` ends the
 * loop with the first successful tool result of a response as the agent's output; `{ stopAtToolNames }`
 * does so when one of those tools succeeds; a function decides from the response's results. The
 * function must be deterministic: on replay it sees the same journaled results and must decide the
 * same. Agents called as tools and handoffs never end the loop this way.
 */
export type ToolUseBehavior =
  | 'run_llm_again'
  | 'stop_on_first_tool'
  | { readonly stopAtToolNames: readonly string[] }
  | ((results: readonly ToolCallResult[]) => ToolsToFinalOutput);

/** Checks a toolUseBehavior at the agent's definition: stopAtToolNames must name tools it has. */
export function checkToolUseBehavior(
  agent: string,
  behavior: unknown,
  toolNames: readonly string[],
): ToolUseBehavior | undefined {
  if (behavior === undefined || behavior === 'run_llm_again') return undefined;
  if (behavior === 'stop_on_first_tool' || typeof behavior === 'function') return behavior as ToolUseBehavior;
  const names: unknown =
    typeof behavior === 'object' && behavior !== null ? Reflect.get(behavior, 'stopAtToolNames') : undefined;
  if (Array.isArray(names) && names.length > 0) {
    for (const name of names) {
      if (typeof name !== 'string' || !toolNames.includes(name))
        throw new InvalidArgumentError(
          `Agent '${agent}' has toolUseBehavior.stopAtToolNames naming '${String(name)}', which is not one of its tools (${toolNames.join(', ') || 'none'}).`,
        );
    }
    return { stopAtToolNames: Object.freeze([...(names as string[])]) };
  }
  throw new InvalidArgumentError(
    `Agent '${agent}' has toolUseBehavior ${JSON.stringify(behavior)}: use 'run_llm_again', 'stop_on_first_tool', { stopAtToolNames: [...] } or a function.`,
  );
}

/**
 * The final output a response's tool results give under `behavior`, with the result that gave it,
 * or undefined when the loop goes on.
 */
export function finalToolOutput(
  behavior: ToolUseBehavior | undefined,
  results: readonly ToolCallResult[],
): { output: unknown; by: ToolCallResult | undefined } | undefined {
  if (behavior === undefined || behavior === 'run_llm_again' || results.length === 0) return undefined;
  if (typeof behavior === 'function') {
    const decided = behavior(results);
    return decided.isFinalOutput ? { output: decided.finalOutput, by: undefined } : undefined;
  }
  const stops =
    behavior === 'stop_on_first_tool'
      ? results.find((result) => result.ok)
      : results.find((result) => result.ok && behavior.stopAtToolNames.includes(result.name));
  return stops === undefined ? undefined : { output: stops.result, by: stops };
}
