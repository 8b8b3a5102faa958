import type { SerializedError } from '../errors.ts';
import type { RunStatus } from '../store/store.ts';

/**
 * A run told as a tree a person reads top to bottom: `explain(store, runId)` builds it from the
 * journal, `formatExplanation` prints it, `baton explain <run> --json` prints it as is.
 */
export interface Explanation {
  runId: string;
  workflow: string;
  status: RunStatus;
  tenant: string;
  /** Who started the run. */
  principal: string;
  input: unknown;
  result?: unknown;
  error?: SerializedError;
  /** ISO-8601: the run's first and last events. */
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Events in the journal. */
  events: number;
  /** What its model calls cost, and their tokens (agents' turns and routed calls, each counted once). */
  costUsd: number;
  usage: TokenCount;
  /** This run is a fork: of which run, from which seq, with what changed. */
  fork?: { from: { runId: string; seq: number }; copied: number; overrides?: Record<string, unknown> };
  /** Forks made from this run. */
  forks: { runId: string; seq: number; at: string; by: string }[];
  /** With `at` ("teleport"): the event the explanation starts from, the nodes around it, and what came before. */
  at?: {
    seq: number;
    type: string;
    summary: string;
    /** Titles of the nodes that hold the event, outermost first. */
    path: string[];
    before: { events: number; costUsd: number; turns: number };
  };
  nodes: ExplanationNode[];
}

export interface TokenCount {
  inputTokens: number;
  outputTokens: number;
}

export type ExplanationNodeKind =
  | 'agent'
  | 'turn'
  | 'tool'
  | 'step'
  | 'timer'
  | 'signal'
  | 'child'
  | 'clock'
  | 'patch'
  | 'route'
  | 'sequence'
  | 'parallel'
  | 'graph'
  | 'plan'
  | 'machine'
  | 'model'
  | 'cache'
  | 'memory'
  | 'access'
  | 'approval'
  | 'guard'
  | 'run'
  | 'other';

/** `running`: a model or tool call whose start (`llm.started`, `tool.started`) has no outcome yet. */
export type ExplanationStatus = 'ok' | 'failed' | 'denied' | 'waiting' | 'running' | 'skipped' | 'handed-off';

/** One thing that happened: an op (a step, an agent, a turn, a tool call, a pattern…) or a run-level event. */
export interface ExplanationNode {
  kind: ExplanationNodeKind;
  /** `step load-account`, `agent billing`, `turn 2`, `tool payments.refund`, `route triage`… */
  title: string;
  /** The op of the ctx call, when it is one. */
  op?: number;
  /** The seqs of its events, first to last. */
  seqs: number[];
  /** ISO-8601 of its first event. */
  at: string;
  durationMs?: number;
  status: ExplanationStatus;
  /** Who acted, and the chain it acted for (nearest first). */
  identity: { actor: string; onBehalfOf: string[] };
  /** Copied from the origin of a fork, not run in this run. */
  copied?: true;
  /** Facts about the call: a model, the tools offered, an effect, a via… */
  facts?: Record<string, unknown>;
  /** What it was asked: a summary line, and the messages in full. */
  asked?: { summary: string; messages?: unknown[] };
  /** What it decided. */
  decided?: Decision;
  /** Why: the model's stated reasoning, routing candidates, guardrail and policy verdicts, approvals. */
  why?: Reason[];
  /** What happened. */
  outcome?: { summary: string; value?: unknown; error?: SerializedError };
  costUsd?: number;
  usage?: TokenCount;
  /** Nodes inside this one. With `depth`, nodes below the limit are counted in `hidden` instead. */
  children: ExplanationNode[];
  hidden?: number;
}

export type Decision =
  | { kind: 'tool-calls'; summary: string; calls: { callId: string; name: string; args: unknown }[] }
  | { kind: 'handoff'; summary: string; to: string; reason?: string }
  | { kind: 'answer'; summary: string; text: string }
  | { kind: 'route'; summary: string; chosen: string }
  | { kind: 'other'; summary: string };

export interface Reason {
  kind:
    | 'reasoning'
    | 'said'
    | 'policy'
    | 'guardrail'
    | 'interceptor'
    | 'approval'
    | 'routing'
    | 'candidate'
    | 'budget'
    | 'loop'
    | 'retry';
  summary: string;
  /** Who decided (an approver, a policy, an interceptor). */
  by?: string;
  data?: unknown;
}
