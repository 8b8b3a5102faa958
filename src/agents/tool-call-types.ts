import type { AgentScope } from './agent-scope.ts';
import type { ToolOutcome } from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import type { ToolDefinition } from './tool.ts';

export interface ToolCallRequest {
  tool: ToolDefinition;
  /** The model's id for this call. */
  callId: string;
  /** The tool's name as the model sees it. */
  wireName: string;
  /** The arguments as the model (or caller) gave them; already checked against the tool's schema. */
  args: unknown;
  agent: string | undefined;
  scope: AgentScope;
  /**
   * True when `args` were read back from a journal that holds them redacted (a model's call to a
   * tool with `redact`, on replay): the real arguments are not known, so the call does not run again.
   */
  argsRedacted?: boolean;
}

export interface ToolCallResult {
  outcome: ToolOutcome;
  /** The tool-result message for the model. */
  message: JournalMessage;
}

/** The signal that resolves an in-doubt call at op `op`: payload {@link InDoubtResolution}. */
export function inDoubtSignalName(op: number): string {
  return `baton.resolve:${op}`;
}

/** How a person resolves an in-doubt call (`baton.resolveInDoubt`). */
export interface InDoubtResolution {
  /** `retry` runs the tool again; `skip` does not, and gives the model `result` (or says it was skipped). */
  action: 'retry' | 'skip';
  /** With `skip`: the result to give the model, e.g. what the outside system says happened. */
  result?: unknown;
  by?: string;
}
