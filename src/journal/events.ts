import type { SerializedError } from '../errors.ts';

/**
 * Every journal event type and its payload, in one place. Tags read noun-then-verb.
 *
 * `op` is the position of the ctx call that wrote the event, in the order the workflow code made
 * its ctx calls. It is deterministic (assigned when the call is made), so replay matches events
 * to calls by `op`, while `seq` is the event's position in the append-only journal.
 *
 * Journal format 1. Add a type or an optional field freely; change the meaning of an existing one
 * only with a new format number and an engine flag (src/engine/engine-flags.ts).
 */
export interface JournalEventPayloads {
  'run.started': {
    workflow: string;
    input: unknown;
    format: number;
    flags: number[];
    parentRunId?: string;
    idempotencyKey?: string;
    /** The tenant the run belongs to (journaled since the run record's tenant is checked against it). */
    tenant?: string;
    timeoutMs?: number;
    /** The verdicts of the run-input guardrails checked at the door (src/guard); `input` is what they let through. */
    guard?: GuardVerdictRecord[];
    /** The grant the run acts under (src/access): given at start, from the default grant policy, or delegated by the parent. */
    grant?: GrantRecord;
    /** The run this one continues (`ctx.continueAsNew`): its identity, grant and parent are carried over. */
    continuedFrom?: string;
  };
  'run.completed': { result?: unknown };
  /** The run closed with `ctx.continueAsNew`: `runId` is its successor, started with the new input. */
  'run.continued': { runId: string };
  'run.failed': { error: SerializedError };
  /** `by`: who asked (`baton.cancel(…, { as })`). */
  'run.cancelled': { reason?: string; by?: string };
  /**
   * Someone asked the run to cancel (src/engine/cancellation-scope.ts): from here, CancelledError is
   * raised at the workflow's awaits outside `nonCancellable` scopes, and the run ends as the workflow
   * decides. `children`: whether its child runs are cancelled with it (default) or abandoned.
   */
  'run.cancelRequested': {
    reason?: string;
    by?: string;
    children?: 'cancel' | 'abandon';
    /** How many ops the workflow had taken when the request reached it: replay applies it there. */
    ops?: number;
  };
  /** The run passed its deadline (`timeout`) and was stopped; its children were cancelled. */
  'run.timedOut': { timeoutMs: number; error: SerializedError };
  /**
   * A failed, timed-out or cancelled run was resumed in place by `by`: replay ignores its events
   * from `voidFromSeq` up to this one (the failure, or the cancellation and what followed it) and
   * the run goes on from there under the same id.
   */
  'run.resumed': {
    by: string;
    reason?: string;
    from: 'failed' | 'cancelled' | 'timed_out';
    voidFromSeq: number;
    timeoutMs?: number;
  };
  /**
   * This run is a fork of `from.runId`: its events 1…`copied` are the origin's, re-sealed in this
   * run's chain (times, actors and payloads kept; `run.started` without the origin's parent and
   * idempotency key, and with `overrides.input` as its input when given). From here it runs live,
   * with `overrides` read by the layers above (agents: `model`, `instructions`).
   */
  'run.forked': {
    from: { runId: string; seq: number; hash: string };
    copied: number;
    overrides?: Record<string, unknown>;
  };

  'step.completed': { op: number; name: string; attempt: number; result?: unknown };
  'step.attempt.failed': {
    op: number;
    name: string;
    attempt: number;
    error: SerializedError;
    retryAt: string;
  };
  'step.failed': { op: number; name: string; attempt: number; error: SerializedError };

  'timer.set': { op: number; name: string; fireAt: string };
  'timer.fired': { op: number };

  'signal.awaited': { op: number; name: string; deadline?: string };
  /** `sentBy`: who sent the signal (the principal given to `baton.signal`), so the audit trail names them. */
  'signal.received': { op: number; name: string; signalId: string; sentBy?: string; payload?: unknown };
  'signal.timedOut': { op: number; name: string };

  /** `parentClose: 'abandon'`: the child outlives its parent (not cancelled with it). */
  'child.started': { op: number; childRunId: string; workflow: string; parentClose?: 'abandon' };
  'child.completed': { op: number; childRunId: string; result?: unknown };
  'child.failed': {
    op: number;
    childRunId: string;
    status: 'failed' | 'cancelled' | 'timed_out';
    error: SerializedError;
  };

  'clock.read': { op: number; value: string };
  /**
   * An op in flight was cancelled with its scope (a timer, a wait, a step, a child's await, an agent's
   * call): replay raises CancelledError there. `describe` is the op as replay compares it (`timer:nap`).
   */
  'op.cancelled': {
    op: number;
    describe: string;
    scope: 'run' | 'scope';
    reason?: string;
    by?: string;
    childRunId?: string;
  };
  'patch.marked': { op: number; patchId: string };
  /** A value the run published for readers outside it (`ctx.setEvent(name, value)`); the latest per name holds. */
  'event.published': { op: number; name: string; value: unknown };

  // Agents (src/agents). Actor = `agent:<name>`, onBehalfOf = the chain above it. `name` is the
  // agent (agent.*, llm.*) or the tool (tool.*). `messages` holds the model messages an event
  // introduces, each once per run; everything else refers to a message by its hash, sha256 of its
  // canonical JSON (src/agents/messages.ts).
  /** An agent began (from ctx.runAgent, a handoff, or as another agent's tool). */
  'agent.started': {
    op: number;
    name: string;
    model: string;
    via: 'run' | 'handoff' | 'tool';
    /** The agent that handed off or called this one. */
    from?: string;
    callId?: string;
    maxTurns: number;
    /** Names of the tools offered, as the model sees them. */
    tools: string[];
    /** Hash of the task message. */
    task: string;
    messages: JournalMessageRecord[];
    /** The grant the agent acts under: its caller's, narrowed to what the agent needs (src/access). */
    grant?: GrantRecord;
  };
  /** `message` is the hash of the final answer. */
  'agent.completed': {
    op: number;
    name: string;
    turns: number;
    message: string;
    usage: ModelUsageRecord;
    costUsd: number;
    /** The loop ended on a tool's result (the agent's `toolUseBehavior`): which tool, and the output it gave. */
    stoppedBy?: { tool?: string; callId?: string; output: unknown };
  };
  'agent.failed': { op: number; name: string; turns: number; error: SerializedError };
  'agent.handedOff': { op: number; name: string; to: string; callId: string; turns: number };
  /**
   * A live model call's attempt is about to be sent (engine flag 3): who calls (the agent; the
   * event's `onBehalfOf` ends with the principal), which model, and when (the event's `at`). Its
   * end is the op's `llm.called`, `llm.attempt.failed` or `llm.failed`; with none, it is in flight.
   */
  'llm.started': { op: number; name: string; turn: number; attempt: number; provider: string; model: string };
  /** One model call: the request by reference, the tools offered, parameters, the response, usage, cost and latency. */
  'llm.called': {
    op: number;
    name: string;
    turn: number;
    attempt: number;
    provider: string;
    model: string;
    request: {
      base?: string;
      append: string[];
      tools: string[];
      parameters?: Record<string, unknown>;
      responseFormat?: 'json';
    };
    /** The reply itself is the last of `messages`. */
    response: {
      id?: string;
      modelId?: string;
      finishReason: string;
      toolCalls: { callId: string; name: string }[];
    };
    /** New messages of the request, then the model's reply. */
    messages: JournalMessageRecord[];
    usage: ModelUsageRecord & { cachedInputTokens?: number; reasoningTokens?: number };
    cost: { usd: number; priced: boolean };
    latencyMs: number;
    /**
     * Set when the reply came from the semantic cache (src/routing), not a model: the run and seq of
     * the `llm.called` it was first given in, and how similar that request was (1 for exact). Usage
     * and cost are then 0.
     */
    cache?: { runId: string; seq: number; similarity: number; threshold?: number; bound?: CacheBoundRecord };
    /** Set when selective hydration sent part of a long history: `request` refers to what was sent. */
    hydration?: { tokens: number; fullTokens: number; omitted: number };
  };
  'llm.attempt.failed': {
    op: number;
    name: string;
    attempt: number;
    error: SerializedError;
    retryAt: string;
    /** In an agent's routed turn: the model (its routing id) whose attempt failed. */
    model?: string;
  };
  'llm.failed': {
    op: number;
    name: string;
    attempt: number;
    error: SerializedError;
    /** In an agent's routed turn: the model (its routing id) that failed for good. */
    model?: string;
  };
  'llm.verdict': VerdictRecord & { op: number; name: string };
  /** A tool call's intent, committed before it runs. `args` are the model's, before any rewrite. */
  'tool.requested': {
    op: number;
    name: string;
    callId: string;
    agent?: string;
    args: unknown;
    effect: 'read' | 'write' | 'irreversible';
    idempotent: boolean;
    /** The grant the caller held (its id); the grant itself is in the caller's `agent.started` or `run.started`. */
    grantId?: string;
    /** The argument paths replaced by `[redacted]` in `args` (the tool's `redact` option). */
    redacted?: string[];
  };
  'tool.verdict': VerdictRecord & { op: number; name: string; callId: string };
  /**
   * A live tool call's attempt is about to run (engine flag 3), committed with its start
   * (`tool.requested`, `tool.retried`, `tool.inDoubt` or `tool.resolved`). Its end is the op's
   * `tool.called`, `tool.attempt.failed` or `tool.failed`; with none, it is in flight.
   */
  'tool.started': { op: number; name: string; callId: string; attempt: number; agent?: string };
  /** A retry attempt is about to run (attempt ≥ 2). */
  'tool.retried': { op: number; name: string; callId: string; attempt: number };
  'tool.attempt.failed': {
    op: number;
    name: string;
    callId: string;
    attempt: number;
    error: SerializedError;
    retryAt: string;
  };
  /** `messages` is `[the tool-result message]`, which holds the result as the model sees it. */
  'tool.called': {
    op: number;
    name: string;
    callId: string;
    attempt: number;
    latencyMs: number;
    messages: JournalMessageRecord[];
  };
  'tool.failed': {
    op: number;
    name: string;
    callId: string;
    attempt: number;
    error: SerializedError;
    messages: JournalMessageRecord[];
  };
  /** A crash came between the intent and the result: `rerun` (read or idempotent tools) or `park` until resolved. */
  'tool.inDoubt': {
    op: number;
    name: string;
    callId: string;
    attempt: number;
    effect: 'read' | 'write' | 'irreversible';
    idempotent: boolean;
    resolution: 'rerun' | 'park';
    signal?: string;
  };
  /** A person resolved an in-doubt call: run it again, or skip it (with the result to give the model). */
  'tool.resolved': {
    op: number;
    name: string;
    callId: string;
    action: 'retry' | 'skip';
    attempt: number;
    by?: string;
    /** With `skip`: `[the tool-result message]` given to the model. */
    messages?: JournalMessageRecord[];
  };

  // Routing (src/routing). `name` is the call's name (the model call, the cache, the agent's memory).
  /** One model call of a routed call (each attempt of a cascade), with its usage, cost and the verifier's verdict. */
  'model.attempted': {
    op: number;
    name: string;
    model: string;
    attempt: number;
    output: unknown;
    usage: ModelUsageRecord;
    costUsd: number;
    agent?: string;
    verdict?: {
      accepted: boolean;
      score?: number;
      reason: string;
      judge?: { model: string; usage: ModelUsageRecord; costUsd: number };
    };
  };
  /** Which model answered a routed call, by which strategy and why. */
  'model.routed': {
    op: number;
    name: string;
    strategy: 'fixed' | 'difficulty' | 'cascade';
    chosen: string;
    reason: string;
    difficulty?: number;
    attempts: number;
    costUsd: number;
    agent?: string;
    /** The models the strategy chose among, in order (an agent's routed turn). */
    candidates?: string[];
    /** A cascade's verdicts in order: the rejected answers' (each also in its `model.attempted`), then the kept one's. */
    verdicts?: { model: string; accepted: boolean; score?: number; reason: string }[];
    /**
     * The judge call that accepted the kept answer of an agent's routed turn, whose reply is in the
     * op's `llm.called` (not a `model.attempted`): its usage and cost are counted here.
     */
    judge?: { model: string; usage: ModelUsageRecord; costUsd: number };
  };
  /** A model call answered from the semantic cache: the entry's source run and seq, and how it matched. */
  'cache.hit': {
    op: number;
    name: string;
    match: 'exact' | 'similar';
    similarity: number;
    key: string;
    source: { runId: string; seq: number };
    response: unknown;
    /** The similarity the hit needed, and with an error bound, the bound it was served under. */
    threshold?: number;
    bound?: CacheBoundRecord;
  };
  /** A model call the cache did not answer; it ran, and its response is here (the source of a new entry when stored). */
  'cache.missed': {
    op: number;
    name: string;
    key: string;
    reason: string;
    response: unknown;
    stored: boolean;
    /** With a judge: whether the nearest entry (at this similarity) would have been a right answer. */
    verdict?: { similarity: number; correct: boolean };
  };
  /** A fact or summary written to an agent's long-term memory. `name` is the agent. */
  'memory.remembered': {
    op: number;
    name: string;
    key: string;
    text: string;
    kind: string;
    meta?: Record<string, unknown>;
  };
  /** What a recall returned, so replay returns the same. `name` is the agent. */
  'memory.recalled': {
    op: number;
    name: string;
    query: string;
    tokens: number;
    items: { key: string; text: string; kind: string; similarity: number; score: number; tokens: number }[];
  };

  // Access (src/access). The event's actor and onBehalfOf are the identity chain that asked.
  /** A tool call was authorized or refused before it ran. `name` is the tool's name. */
  'tool.authorized': AccessDecisionPayload & { op: number; name: string };
  /** Any other action was authorized or refused (HandOff, StartChild, Approve…). `name` is `<Action>:<resource>`. */
  'access.decided': AccessDecisionPayload & { op: number; name: string };

  // Guard (src/guard): guardrails, budgets, loop detection, approvals. `name` is what was checked
  // or asked about: the agent, the tool, the approval's action.
  /** One guardrail's verdict at one stage (`value` holds a rewrite at the agent stages, for replay). */
  'guard.verdict': GuardVerdictRecord & { op: number; name: string };
  /** A person is asked to decide; `stages` are the approver groups in turn, each until its time. */
  'approval.requested': {
    op: number;
    name: string;
    approvalId: string;
    kind: 'approval' | 'tool' | 'budget' | 'loop';
    summary: string;
    data?: unknown;
    /** The run's principal: never its own approver under the default rule. */
    requestedBy: string;
    stages: ApprovalStageRecord[];
    /** What happens when the last stage's time passes: the approval is denied. */
    onTimeout: 'deny';
    /** The signal that carries the decision (`baton.approval:<approvalId>`). */
    signal: string;
    /** For a gated tool call: the canonical hash of the call asked for (tool, arguments, actor, grant). */
    callHash?: string;
    /** For a gated tool call: the tool, the arguments asked for, and its input schema (to check edited arguments). */
    tool?: {
      name: string;
      effect: 'read' | 'write' | 'irreversible';
      args: unknown;
      inputSchema: Record<string, unknown>;
    };
  };
  /** An approval's time passed without a decision: the next stage's approvers may decide now. */
  'approval.escalated': {
    op: number;
    name: string;
    approvalId: string;
    stage: number;
    approvers: string[];
    until?: string;
  };
  'approval.decided': {
    op: number;
    name: string;
    approvalId: string;
    decision: 'approved' | 'denied';
    /** The approver, or `system:timeout`. */
    by: string;
    comment?: string;
    /** Edited arguments the approver approved with. */
    args?: unknown;
    /**
     * When the approver edited a tool call's arguments: the canonical hash of the call approved, and
     * of the call asked for. Without edits the approval is of the call approval.requested names.
     */
    callHash?: string;
    requestedCallHash?: string;
    /** Edited arguments are authorized again (policies, guardrails) before the call runs: the outcome. */
    reauthorization?: { decision: 'allow' | 'deny'; reason?: string };
    timedOut?: boolean;
    /** The policies that allowed the approver, when a policy engine decided. */
    policies?: string[];
  };
  /** A budget would be (or was) exceeded by a call: which budget, which measure, the limit and the use. */
  'budget.exceeded': {
    op: number;
    name: string;
    scope: 'run' | 'agent' | 'tenant';
    /** The run id, the agent's name or the tenant (with its period). */
    subject: string;
    metric: BudgetMetric;
    limit: number;
    used: number;
    /** What the call was estimated to add. */
    requested: number;
    action: 'stop' | 'ask';
  };
  /** An agent repeated itself: the same tool call again and again, or turns that added nothing new. */
  'loop.detected': {
    op: number;
    name: string;
    kind: 'repeated-tool-call' | 'no-progress';
    reason: string;
    evidence: Record<string, unknown>;
    action: 'stop' | 'escalate';
  };

  // Patterns (src/patterns). `name` is the pattern's name, `<pattern>/<branch>` on branch and node events.
  /** A route was chosen: which one, among which candidates, decided by what and why. */
  'route.decided': {
    op: number;
    name: string;
    chosen: string;
    candidates: RouteCandidateRecord[];
    reason: string;
    /** What decided: `function`, `step:<name>`, `agent:<name>`, … */
    decidedBy?: string;
    /** The decider's raw answer, when it was not simply the route's name. */
    answer?: unknown;
    /** True when the answer named no route and the fallback was taken. */
    fallback?: boolean;
  } & CapabilityRouteFields;
  /** No route could be chosen (the answer named none and there is no fallback, or the classifier failed). */
  'route.failed': {
    op: number;
    name: string;
    candidates: RouteCandidateRecord[];
    reason: string;
    decidedBy?: string;
    answer?: unknown;
    error?: SerializedError;
  } & CapabilityRouteFields;
  'sequence.started': { op: number; name: string; stages: string[] };
  'sequence.completed': { op: number; name: string };
  'sequence.failed': { op: number; name: string; stage: string; error: SerializedError };
  'parallel.started': { op: number; name: string; branches: string[]; policy: PartialFailurePolicy };
  'parallel.branch.completed': { op: number; name: string; parallel: string; branch: string };
  'parallel.branch.failed': {
    op: number;
    name: string;
    parallel: string;
    branch: string;
    error: SerializedError;
  };
  'parallel.completed': { op: number; name: string; succeeded: string[]; failed: string[]; reason: string };
  'parallel.failed': { op: number; name: string; succeeded: string[]; failed: string[]; reason: string };
  'graph.started': { op: number; name: string; nodes: { id: string; deps: string[] }[] };
  'graph.node.started': { op: number; name: string; graph: string; node: string };
  'graph.node.completed': { op: number; name: string; graph: string; node: string };
  'graph.node.skipped': { op: number; name: string; graph: string; node: string; reason: string };
  'graph.node.failed': { op: number; name: string; graph: string; node: string; error: SerializedError };
  'graph.completed': { op: number; name: string; completed: string[]; skipped: string[] };
  'graph.failed': { op: number; name: string; failed: string[]; completed: string[]; skipped: string[] };

  // Plans (src/planning): a goal decomposed at run time into a checked task graph. `name` is the plan's.
  /** A plan run began: its goal and who plans it (`agent:<name>` or `code:<name>`). */
  'plan.started': { op: number; name: string; goal: string; planner: string; maxRevisions: number };
  /** A planner's proposal failed the checks; the problems go back to the planner. */
  'plan.rejected': {
    op: number;
    name: string;
    revision: number;
    attempt: number;
    planner: string;
    problems: string[];
    /** The proposal as given (clipped when large). */
    proposal?: unknown;
  };
  /**
   * A checked plan, the graph that runs: its tasks (each with whom it was routed to and the grant
   * actions it holds), parallel levels, the tasks kept from earlier revisions and, for a revision,
   * the one it replaces and why.
   */
  'plan.decided': {
    op: number;
    name: string;
    revision: number;
    attempt: number;
    planner: string;
    goal: string;
    tasks: PlanTaskRecord[];
    levels: string[][];
    /** Completed tasks of earlier revisions this plan keeps (not run again). */
    kept: string[];
    replaces?: { revision: number; seq: number; reason: string };
    /** Set when a person edited the plan before approving it. */
    editedBy?: string;
  };
  'plan.completed': { op: number; name: string; revisions: number; completed: string[] };
  'plan.failed': { op: number; name: string; revision: number; code: string; reason: string };

  // State machines (src/patterns/machine.ts): graphs with bounded cycles. `name` is the machine's.
  'machine.started': {
    op: number;
    name: string;
    initial: string;
    edges: { from: string; to: string; max?: number }[];
  };
  /** A state's work began (its `visit`-th time). */
  'machine.state.entered': { op: number; name: string; state: string; visit: number; step: number };
  /** The machine took an edge: `taken` is how many times that edge has been taken now. */
  'machine.transitioned': {
    op: number;
    name: string;
    from: string;
    to: string;
    taken: number;
    step: number;
    reason: string;
  };
  'machine.completed': {
    op: number;
    name: string;
    final: string;
    steps: number;
    edges: Record<string, number>;
  };
  'machine.failed': {
    op: number;
    name: string;
    state: string;
    steps: number;
    edges: Record<string, number>;
    error: SerializedError;
  };

  // Resource pools (src/resources). No `op`: written alongside the op whose call observed it, and
  // skipped by replay.
  /** A pool's circuit breaker (in the worker process that journals it) opened on this call's failure. */
  'pool.breaker.opened': { pool: string; what: string; halfOpenAfterMs: number; error: SerializedError };
}

/** What a `parallel` does when some branches fail: fail, go on, or go on with at least N successes. */
export type PartialFailurePolicy = 'fail' | 'continue' | { minSuccesses: number };

/** An authorization decision as journaled: what was asked, the answer, and what determined it. */
export interface AccessDecisionPayload {
  /** The Cedar action (`InvokeTool`, `HandOff`, `StartChild`, `Approve`, …). */
  action: string;
  /** What was acted on, as `kind:name` (`tool:payments.refund`, `agent:billing`, `run:run_01…`). */
  resource: string;
  decision: 'allow' | 'deny';
  /**
   * `policy`, `default deny`, `outside grant`, `grant expired`, `other tenant`, `evaluation error`,
   * `grant` (no policies configured: the grant alone allowed it), `delegation widens` or
   * `delegation too deep` (the callee could not be given a narrower grant).
   */
  reason: string;
  /** The ids of the policies that determined the decision. */
  policies: string[];
  errors: string[];
  /** The grant the actor held, if any, and the grant action the request needed. */
  grantId?: string;
  grantAction: string;
  /** For a delegation (HandOff, StartChild) that was allowed: the grant the callee receives. */
  delegated?: GrantRecord;
  /** The model's id for the tool call that asked (a handoff, an agent called as a tool). */
  callId?: string;
}

/**
 * A grant as journaled (src/access/grant.ts): the actions an identity may do (`tool:search.*`,
 * `handoff:billing`, `child:report`, `secret:stripe.key`), in one tenant, until an expiry. Its id is
 * a digest of its content, so an altered grant no longer matches its id.
 */
export interface GrantRecord {
  readonly id: string;
  readonly tenant: string;
  readonly actions: readonly string[];
  readonly expiresAt?: string;
  /** How many delegations from the run's root grant (0). */
  readonly depth: number;
  readonly parentId?: string;
  readonly holder?: string;
}

/** Where a guardrail checks: the run's input, an agent's input or output, a tool call's arguments or result. */
export type GuardStage = 'run.input' | 'agent.input' | 'agent.output' | 'tool.before' | 'tool.after';

/** A guardrail's verdict as journaled. A guardrail that threw blocks (fail closed), with its `error`. */
export interface GuardVerdictRecord {
  stage: GuardStage;
  guardrail: string;
  verdict: 'pass' | 'block' | 'rewrite';
  /** A block by a tripwire guardrail: it stops the agent (TripwireTriggeredError) instead of refusing one thing. */
  tripwire?: boolean;
  reason?: string;
  value?: unknown;
  error?: SerializedError;
  data?: Record<string, unknown>;
}

/** One stage of an approval: who may decide (as named, and the principals that resolved to) and until when. */
export interface ApprovalStageRecord {
  approvers: string[];
  members: string[];
  until?: string;
}

/** What a budget measures. */
export type BudgetMetric = 'tokens' | 'usd' | 'modelCalls' | 'toolCalls' | 'wallTimeMs';

/** A candidate of a routing decision; capability routing adds its similarity, cost and eligibility. */
export interface RouteCandidateRecord {
  name: string;
  score?: number;
  similarity?: number;
  /** The registry classifier's probability for this candidate, when the registry has one. */
  confidence?: number;
  /** The word alignment of the task with this candidate's texts, when the registry aligns words. */
  alignment?: number;
  cost?: number;
  /** False when the candidate was below the similarity threshold. */
  eligible?: boolean;
}

/** The error bound a semantic-cache hit was served under (src/routing/cache-error-bound.ts). */
export interface CacheBoundRecord {
  maxErrorRate: number;
  threshold: number;
  samples: number;
  errors: number;
  upperBound: number;
  from: 'scope' | 'tenant';
}

/** What capability routing (src/routing) adds to route.decided / route.failed. */
export interface CapabilityRouteFields {
  task?: string;
  options?: { k: number; minScore: number; costBias: number };
  /** The embedding space the task was compared in (`embedder id/dimensions`). */
  space?: string;
}

/** One task of a plan as journaled (src/planning). */
export interface PlanTaskRecord {
  id: string;
  description: string;
  deps: string[];
  /** What the planner asked for: a capability (routed by similarity and cost) or a named worker. */
  capability?: string;
  worker?: string;
  /** Whom it runs on: the named worker, or the capability index's choice. */
  assigned: string;
  /** The capability index's candidates, when it was routed. */
  candidates?: RouteCandidateRecord[];
  routeReason?: string;
  /** The grant actions the task is narrowed to. */
  actions: string[];
  irreversible?: boolean;
  level: number;
}

/** A model message as journaled: the JSON form of an AI SDK prompt message (src/agents/messages.ts). */
export type JournalMessageRecord = unknown;

/** An interceptor's verdict on a tool or model call (src/agents/interceptors.ts). */
export interface VerdictRecord {
  interceptor: string;
  phase: 'before' | 'after' | 'decided';
  verdict: 'allow' | 'deny' | 'rewrite' | 'park';
  /** A deny that is a tripwire: the call is not refused to the model, the agent stops (TripwireTriggeredError). */
  tripwire?: boolean;
  reason?: string;
  args?: unknown;
  signal?: string;
  /** A park's deadline (ISO time): with no decision by then, the call is denied. */
  deadline?: string;
  data?: Record<string, unknown>;
}

/** Token usage of a model call, as journaled. */
export interface ModelUsageRecord {
  inputTokens: number;
  outputTokens: number;
}

export type JournalEventType = keyof JournalEventPayloads;

/** An event of one type as written: hashed, chained, in order. */
export interface JournalEventOf<T extends JournalEventType> {
  runId: string;
  seq: number;
  type: T;
  /** ISO-8601 time of writing. */
  at: string;
  /** Who performed the action: an agent, a workflow or a person. */
  actor: string;
  /** The chain of principals the actor acts for, nearest first. */
  onBehalfOf: string[];
  payload: JournalEventPayloads[T];
  prevHash: string;
  hash: string;
}

/**
 * An event as written. Without a type argument it is the union of every event type, so a check of
 * `type` narrows `payload`: `if (event.type === 'llm.called') event.payload.usage`. With one
 * (`JournalEvent<'llm.called'>`) or a union of some, it is those types only.
 */
export type JournalEvent<T extends JournalEventType = JournalEventType> = T extends JournalEventType
  ? JournalEventOf<T>
  : never;

/** Any event, narrowed by its `type` (the same as `JournalEvent`). */
export type AnyJournalEvent = JournalEvent;

/** An event of one type before the journal gives it a seq and a hash. */
export interface EventDraftOf<T extends JournalEventType> {
  type: T;
  payload: JournalEventPayloads[T];
  actor?: string;
  onBehalfOf?: string[];
}

/** An event before the journal gives it a seq and a hash; like `JournalEvent`, it narrows on `type`. */
export type EventDraft<T extends JournalEventType = JournalEventType> = T extends JournalEventType
  ? EventDraftOf<T>
  : never;

/** An event before it is sealed (everything but its hash); it narrows on `type`. */
export type UnsealedEvent<T extends JournalEventType = JournalEventType> = T extends JournalEventType
  ? Omit<JournalEventOf<T>, 'hash'>
  : never;

/**
 * A draft of one event type, typed as the union `EventDraft` (code generic over the type, such as a
 * `draft(type, payload)` helper, cannot show TypeScript that the type and payload agree).
 */
export function eventDraft<T extends JournalEventType>(
  type: T,
  payload: JournalEventPayloads[T],
  identity: { actor?: string; onBehalfOf?: string[] } = {},
): EventDraft {
  const draft: EventDraftOf<T> = { type, payload, ...identity };
  return draft as EventDraft;
}

export const JOURNAL_FORMAT = 1;

/** The op an event belongs to, when it was written by a ctx call. */
export function eventOp(event: JournalEvent): number | undefined {
  return 'op' in event.payload ? event.payload.op : undefined;
}

export function isEventOfType<T extends JournalEventType>(
  event: JournalEvent,
  type: T,
): event is JournalEvent<T> {
  return event.type === type;
}
