import type { SerializedError } from '../../errors.ts';
import type { JournalRunStatus } from '../run-facts.ts';

/**
 * One typed model of a run, derived from its journal in one place (`deriveRunModel`,
 * `RunModelBuilder`): its operations, agents, turns, tool calls, waits, approvals, decisions and
 * costs, and its links to a parent, a fork's origin and a successor. `baton explain`, the server's
 * step detail, run detail and cost reports, the OpenTelemetry spans and metrics, and the web UI all
 * read it, so no two of them can tell a run differently.
 *
 * Everything refers to events by `seq` and to other parts of the model by `key`; the model holds
 * no payload copies beyond the few fields it names. It is plain JSON (the server sends it as is).
 */
export interface RunModel {
  runId: string;
  workflow: string;
  /** Who started the run (the `run.started` actor). */
  principal: string;
  input: unknown;
  startedAt: string;
  /** The last event read. */
  lastSeq: number;
  lastAt: string;
  status: RunModelStatus;
  /** How the run ended, when its journal ends it. */
  end?: RunEnd;
  links: RunLinks;
  /** Every op of the workflow, in the order it began (its first event). */
  operations: OperationModel[];
  /** Every agent loop, in the order it began. */
  agents: AgentModel[];
  /** Every model call of an agent (a turn), in journal order. */
  turns: TurnModel[];
  /** Every tool call, in the order it was asked for. */
  calls: ToolCallModel[];
  /** Timers, signals, child runs, approvals, parked and in-doubt calls, step retries: open and closed. */
  waits: WaitModel[];
  approvals: ApprovalModel[];
  /** Routing, policy, guardrail, interceptor, budget and loop decisions, in journal order. */
  decisions: DecisionModel[];
  /** Each model charge once: agents' turns, routed attempts and their judges. */
  costs: CostEntry[];
  /** Model calls answered from the semantic cache (they cost nothing and are not charges). */
  cacheHits: number;
}

/** A run's status as its journal tells it: `running` and `waiting` until an end event. */
export type RunModelStatus = Exclude<JournalRunStatus, 'unfinished'> | 'running' | 'waiting';

export interface RunEnd {
  seq: number;
  at: string;
  status: Exclude<JournalRunStatus, 'unfinished'>;
  result?: unknown;
  error?: SerializedError;
  /** A cancelled run: why, and who asked. */
  reason?: string;
  by?: string;
  /** A continued run: its successor. */
  continuedAs?: string;
}

export interface RunLinks {
  parentRunId?: string;
  /** The run this one continues (`ctx.continueAsNew`). */
  continuedFrom?: string;
  /** This run is a fork: of which run, from which seq; events 1…`copied` are the origin's. */
  forkedFrom?: { runId: string; seq: number; copied: number; overrides?: Record<string, unknown> };
  /** Child runs started by this one. */
  children: { op: number; runId: string; workflow: string; seq: number }[];
  /** A cancel asked of the run (reason and who), even before the run ended. */
  cancelRequested?: { seq: number; reason?: string; by?: string };
}

/** Where an item stands. */
export type ItemState = 'running' | 'waiting' | 'completed' | 'failed' | 'denied' | 'skipped' | 'handed-off';

/** Something of the run that starts at one event and may end at another. */
export interface Span {
  /** The event that began it. */
  seq: number;
  at: string;
  /** The event that ended it, while it is not open. */
  endSeq?: number;
  endAt?: string;
  /** Every event of it, in order. */
  seqs: number[];
  state: ItemState;
}

/** One op: the events of one ctx call (a step, a timer, an agent loop, a model call, a tool call…). */
export interface OperationModel extends Span {
  op: number;
  /** The first event type's prefix: `step`, `timer`, `agent`, `llm`, `tool`, `graph`, `route`… */
  kind: string;
  /** The payload's `name` (a step's, an agent's, a tool's, a pattern's). */
  name: string;
  /** The agent loop it ran in, when an agent performed it (by the agent's key). */
  agent?: string;
  /** Copied from a fork's origin, not run in this run. */
  copied?: true;
}

/** One agent loop (`agent.started` … `agent.completed` / `failed` / `handedOff`). */
export interface AgentModel extends Span {
  /** `agent:<op>`: unique in the run, even when parallel agents share a name. */
  key: string;
  op: number;
  name: string;
  model: string;
  via: 'run' | 'handoff' | 'tool';
  /**
   * The agent that handed off to this one or called it as a tool: its key, the turn whose reply
   * asked for the handoff or the call, and the tool call (for an agent used as a tool).
   */
  parent?: { agent: string; turn?: string; call?: string };
  /** Its turns' keys, in order. */
  turns: string[];
  /** Its tool calls' keys, in the order asked. */
  calls: string[];
  /** How many turns it took (from its end event). */
  turnCount?: number;
  handoff?: { to: string; callId: string };
  /** From `agent.completed`. */
  usage?: TokenUsage;
  costUsd?: number;
  error?: SerializedError;
}

/** One model call of an agent: a turn (`llm.called` or `llm.failed`, with its verdicts). */
export interface TurnModel extends Span {
  /** `<agent key>/turn:<op>`, or `run/turn:<op>` for a model call outside any agent loop. */
  key: string;
  agent?: string;
  /** The agent's name as journaled on the call. */
  agentName: string;
  op: number;
  /** The turn's number in its agent (1 first). */
  number: number;
  provider?: string;
  model?: string;
  latencyMs?: number;
  usage?: TokenUsage;
  /** What it cost; `priced: false` when the model has no price (usd is then 0). */
  cost?: { usd: number; priced: boolean };
  cached: boolean;
  finishReason?: string;
  /** The calls the reply asked for, by call key, in order. */
  asked: string[];
  error?: SerializedError;
}

/** One tool call, identified by its agent and its call id (parallel agents reuse call ids). */
export interface ToolCallModel extends Span {
  /** `<agent key>/call:<callId>`, or `run/call:<callId>`; `#<op>` is added if an agent reuses an id. */
  key: string;
  agent?: string;
  agentName?: string;
  callId: string;
  op: number;
  name: string;
  effect?: 'read' | 'write' | 'irreversible';
  args?: unknown;
  /** The arguments it ran with, when an interceptor or an approver changed them. */
  finalArgs?: unknown;
  /** The turn whose reply asked for it. */
  turn?: string;
  attempts: number;
  latencyMs?: number;
  /** The policy decision, when one was journaled. */
  decision?: 'allow' | 'deny';
  /** Its approval's id, when a person was asked. */
  approval?: string;
  error?: SerializedError;
}

export type WaitKind = 'timer' | 'signal' | 'child' | 'approval' | 'in-doubt' | 'park' | 'retry';

/** Something the run waited on, and whether it still does. */
export interface WaitModel extends Span {
  key: string;
  kind: WaitKind;
  op: number;
  /** The timer's, the signal's, the child's workflow, the approval's action, the tool's, the step's. */
  name: string;
  open: boolean;
  /** A timer's fire time, a signal's deadline, a retry's time. */
  until?: string;
  /** A child run's id, an approval's id, a parked call's signal. */
  ref?: string;
  /** The tool call it holds, for an approval, a park or an in-doubt call. */
  call?: string;
  /** The approvers of an approval's first stage. */
  approvers?: string[];
  /** A received signal: its sender. */
  sentBy?: string;
}

export interface ApprovalModel extends Span {
  approvalId: string;
  op: number;
  name: string;
  kind: 'approval' | 'tool' | 'budget' | 'loop';
  summary: string;
  requestedBy: string;
  stages: { approvers: string[] }[];
  /** The tool call it gates. */
  call?: string;
  decision?: 'approved' | 'denied';
  by?: string;
  comment?: string;
  edited: boolean;
}

export type DecisionKind = 'route' | 'policy' | 'guardrail' | 'interceptor' | 'budget' | 'loop';

export interface DecisionModel {
  seq: number;
  at: string;
  op?: number;
  kind: DecisionKind;
  /** What was decided on (the route, the tool, the action). */
  name: string;
  /** `allow`, `deny`, `pass`, `block`, `rewrite`, `park`, a route's choice, `stop`, `ask`… */
  outcome: string;
  reason?: string;
  /** Who decided (an interceptor, a guardrail, the policies). */
  by?: string;
  /** An interceptor's phase; with `decided`, the person who decided (`approver`). */
  phase?: 'before' | 'after' | 'decided';
  approver?: string;
  /** A park's signal. */
  signal?: string;
  call?: string;
  agent?: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** One model charge: an agent's turn, a routed call's attempt, or a judge's verdict. */
export interface CostEntry {
  runId: string;
  workflow: string;
  seq: number;
  at: string;
  source: 'turn' | 'attempt' | 'judge';
  /** The agent's name; for a routed call outside an agent, the identity that made it (`workflow:<name>`). */
  agent: string;
  /** `provider:model`. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  /** False when the model has no price: `usd` is 0 and the charge is unknown, not free. */
  priced: boolean;
}
