import { eventOp, type JournalEvent } from '../events.ts';
import { costEntriesOf } from './cost-entries.ts';
import { decisionOf } from './decisions.ts';
import { OP_STATES } from './op-states.ts';
import type {
  AgentModel,
  ApprovalModel,
  CostEntry,
  ItemState,
  OperationModel,
  RunEnd,
  RunModel,
  ToolCallModel,
  TurnModel,
  WaitKind,
  WaitModel,
} from './run-model.ts';

/** The parts of the model one event touched: what a consumer reading events one by one needs. */
export interface RunModelTouch {
  operation?: OperationModel;
  agent?: AgentModel;
  turn?: TurnModel;
  call?: ToolCallModel;
  wait?: WaitModel;
  approval?: ApprovalModel;
  costs: CostEntry[];
}

/** The run model of a whole journal (or of its first events). */
export function deriveRunModel(events: readonly JournalEvent[]): RunModel {
  const builder = new RunModelBuilder();
  for (const event of events) builder.add(event);
  return builder.model;
}

/**
 * Builds a run's model event by event, in journal order: `deriveRunModel` for a whole journal, or
 * fed as events are committed (the OpenTelemetry spans and metrics), where `add` says what each
 * event touched. A builder fed from the middle of a journal (a resumed activation) attributes what
 * it can and never guesses: an event whose agent it has not seen start belongs to no agent.
 */
export class RunModelBuilder {
  readonly model: RunModel;
  readonly #operations = new Map<number, OperationModel>();
  readonly #agentsByOp = new Map<number, AgentModel>();
  readonly #openAgents: AgentModel[] = [];
  readonly #turnsByOp = new Map<number, TurnModel>();
  readonly #callsByOp = new Map<number, ToolCallModel>();
  readonly #callKeys = new Set<string>();
  /** The turn that asked for each call, by `<agent key>\0<callId>`. */
  readonly #askedBy = new Map<string, TurnModel>();
  /** Handoffs by `<agent name>\0<callId>`: the agent that handed off. */
  readonly #handoffs = new Map<string, AgentModel>();
  readonly #waits = new Map<string, WaitModel>();
  readonly #approvals = new Map<string, ApprovalModel>();

  constructor(runId = '') {
    this.model = {
      runId,
      workflow: '',
      principal: '',
      input: undefined,
      startedAt: '',
      lastSeq: 0,
      lastAt: '',
      status: 'running',
      links: { children: [] },
      operations: [],
      agents: [],
      turns: [],
      calls: [],
      waits: [],
      approvals: [],
      decisions: [],
      costs: [],
      cacheHits: 0,
    };
  }

  /** Reads the next event; returns the parts of the model it touched. */
  add(event: JournalEvent): RunModelTouch {
    const model = this.model;
    if (!model.runId) model.runId = event.runId;
    if (!model.workflow) model.workflow = workflowOf(event);
    if (!model.startedAt) model.startedAt = event.at;
    model.lastSeq = event.seq;
    model.lastAt = event.at;
    const touch: RunModelTouch = { costs: [] };
    this.#run(event);
    const op = eventOp(event);
    if (op !== undefined) {
      touch.operation = this.#operation(event, op);
      this.#entities(event, op, touch);
      const decision = decisionOf(event, touch.call?.key, touch.operation.agent);
      if (decision) model.decisions.push(decision);
    }
    if (event.type === 'cache.hit' || (event.type === 'llm.called' && event.payload.cache)) model.cacheHits++;
    touch.costs = costEntriesOf(event, model.workflow);
    model.costs.push(...touch.costs);
    model.status = this.#status();
    return touch;
  }

  #run(event: JournalEvent): void {
    const model = this.model;
    switch (event.type) {
      case 'run.started':
        model.workflow = event.payload.workflow;
        model.principal = event.actor;
        model.input = event.payload.input;
        model.startedAt = event.at;
        if (event.payload.parentRunId !== undefined) model.links.parentRunId = event.payload.parentRunId;
        if (event.payload.continuedFrom !== undefined)
          model.links.continuedFrom = event.payload.continuedFrom;
        return;
      case 'run.forked': {
        const { from, copied, overrides } = event.payload;
        model.links.forkedFrom = {
          runId: from.runId,
          seq: from.seq,
          copied,
          ...(overrides === undefined ? {} : { overrides }),
        };
        for (const operation of model.operations)
          if (operation.seqs.every((seq) => seq <= copied)) operation.copied = true;
        return;
      }
      case 'run.cancelRequested':
        model.links.cancelRequested = { seq: event.seq, ...identified(event.payload) };
        return;
      case 'run.resumed':
        delete model.end;
        return;
      case 'run.completed':
        model.end = { ...endOf(event), result: event.payload.result };
        return;
      case 'run.failed':
      case 'run.timedOut':
        model.end = { ...endOf(event), error: event.payload.error };
        return;
      case 'run.cancelled':
        model.end = { ...endOf(event), ...identified(event.payload) };
        return;
      case 'run.continued':
        model.end = { ...endOf(event), continuedAs: event.payload.runId };
        return;
      default:
        return;
    }
  }

  #status(): RunModel['status'] {
    const model = this.model;
    if (model.end) return model.end.status;
    return [...this.#waits.values()].some((wait) => wait.open) ? 'waiting' : 'running';
  }

  #operation(event: JournalEvent, op: number): OperationModel {
    let operation = this.#operations.get(op);
    if (!operation) {
      const name = 'name' in event.payload ? event.payload.name : '';
      operation = {
        op,
        kind: event.type.slice(0, event.type.indexOf('.')),
        name,
        seq: event.seq,
        at: event.at,
        seqs: [],
        state: 'running',
      };
      const agent = event.type.startsWith('agent.') ? undefined : this.#actingAgent(event);
      if (agent) operation.agent = agent.key;
      this.#operations.set(op, operation);
      this.model.operations.push(operation);
    }
    operation.seqs.push(event.seq);
    const state = OP_STATES[event.type]?.(event);
    if (state) settle(operation, state, event);
    return operation;
  }

  /** The agent whose loop performed the event: the innermost open agent named by its actor. */
  #actingAgent(event: JournalEvent): AgentModel | undefined {
    return event.actor.startsWith('agent:') ? this.#openAgent(event.actor.slice('agent:'.length)) : undefined;
  }

  #openAgent(name: string | undefined): AgentModel | undefined {
    return name === undefined ? undefined : this.#openAgents.findLast((agent) => agent.name === name);
  }

  #entities(event: JournalEvent, op: number, touch: RunModelTouch): void {
    const prefix = event.type.slice(0, event.type.indexOf('.'));
    if (prefix === 'agent') touch.agent = this.#agent(event, op);
    else if (prefix === 'llm') touch.turn = this.#turn(event, op);
    else if (prefix === 'tool') touch.call = this.#call(event, op);
    else touch.call = this.#callsByOp.get(op);
    if (!touch.agent) {
      const key = touch.turn?.agent ?? touch.call?.agent ?? touch.operation?.agent;
      touch.agent = key === undefined ? undefined : this.model.agents.find((agent) => agent.key === key);
    }
    touch.approval = this.#approval(event, touch.call);
    touch.wait = this.#wait(event, op, touch.call);
    if (event.type === 'child.started')
      this.model.links.children.push({
        op,
        runId: event.payload.childRunId,
        workflow: event.payload.workflow,
        seq: event.seq,
      });
  }

  #agent(event: JournalEvent, op: number): AgentModel | undefined {
    if (event.type === 'agent.started') {
      const { name, model, via, from, callId } = event.payload;
      const agent: AgentModel = {
        key: `agent:${op}`,
        op,
        name,
        model,
        via,
        seq: event.seq,
        at: event.at,
        seqs: [event.seq],
        state: 'running',
        turns: [],
        calls: [],
      };
      const parent = this.#parentOf(via, from, callId);
      if (parent) agent.parent = parent;
      this.#agentsByOp.set(op, agent);
      this.#openAgents.push(agent);
      this.model.agents.push(agent);
      return agent;
    }
    const agent = this.#agentsByOp.get(op);
    if (!agent) return undefined;
    agent.seqs.push(event.seq);
    switch (event.type) {
      case 'agent.completed':
        agent.turnCount = event.payload.turns;
        agent.usage = { ...event.payload.usage };
        agent.costUsd = event.payload.costUsd;
        this.#closeAgent(agent, 'completed', event);
        break;
      case 'agent.failed':
        agent.turnCount = event.payload.turns;
        agent.error = event.payload.error;
        this.#closeAgent(agent, 'failed', event);
        break;
      case 'agent.handedOff':
        agent.turnCount = event.payload.turns;
        agent.handoff = { to: event.payload.to, callId: event.payload.callId };
        this.#handoffs.set(`${agent.name}\0${event.payload.callId}`, agent);
        this.#closeAgent(agent, 'handed-off', event);
        break;
      default:
        break;
    }
    return agent;
  }

  /** Who started an agent: the caller's call for an agent used as a tool, the agent that handed off. */
  #parentOf(
    via: AgentModel['via'],
    from: string | undefined,
    callId: string | undefined,
  ): AgentModel['parent'] {
    if (from === undefined) return undefined;
    const asking = (agent: AgentModel) => {
      const turn = callId === undefined ? undefined : this.#askedBy.get(`${agent.key}\0${callId}`);
      return turn ? { turn: turn.key } : {};
    };
    if (via === 'handoff') {
      const handing = callId === undefined ? undefined : this.#handoffs.get(`${from}\0${callId}`);
      const agent = handing ?? this.#openAgent(from) ?? this.model.agents.findLast((a) => a.name === from);
      return agent ? { agent: agent.key, ...asking(agent) } : undefined;
    }
    const caller = this.#openAgent(from);
    if (!caller) return undefined;
    const call = callId === undefined ? undefined : this.#findCall(caller.key, callId);
    return { agent: caller.key, ...asking(caller), ...(call ? { call: call.key } : {}) };
  }

  #findCall(agentKey: string, callId: string): ToolCallModel | undefined {
    return this.model.calls.findLast((call) => call.agent === agentKey && call.callId === callId);
  }

  #closeAgent(agent: AgentModel, state: ItemState, event: JournalEvent): void {
    settle(agent, state, event);
    const index = this.#openAgents.lastIndexOf(agent);
    if (index >= 0) this.#openAgents.splice(index, 1);
  }

  #turn(event: JournalEvent, op: number): TurnModel | undefined {
    let turn = this.#turnsByOp.get(op);
    if (!turn) {
      const agentName = 'name' in event.payload ? event.payload.name : '';
      const agent = this.#openAgent(agentName);
      turn = {
        key: `${agent?.key ?? 'run'}/turn:${op}`,
        agentName,
        op,
        number: (agent?.turns.length ?? 0) + 1,
        seq: event.seq,
        at: event.at,
        seqs: [],
        state: 'running',
        cached: false,
        asked: [],
      };
      if (agent) {
        turn.agent = agent.key;
        agent.turns.push(turn.key);
      }
      this.#turnsByOp.set(op, turn);
      this.model.turns.push(turn);
    }
    turn.seqs.push(event.seq);
    switch (event.type) {
      case 'llm.called': {
        const { payload } = event;
        Object.assign(turn, {
          number: payload.turn,
          provider: payload.provider,
          model: payload.model,
          latencyMs: payload.latencyMs,
          usage: { inputTokens: payload.usage.inputTokens, outputTokens: payload.usage.outputTokens },
          cost: { usd: payload.cost.usd, priced: payload.cost.priced },
          cached: payload.cache !== undefined,
          finishReason: payload.response.finishReason,
        });
        // A turn's span begins when the model was asked: its latency before the reply.
        turn.at = new Date(Date.parse(event.at) - payload.latencyMs).toISOString();
        for (const call of payload.response.toolCalls) {
          const key = `${turn.agent ?? 'run'}\0${call.callId}`;
          this.#askedBy.set(key, turn);
        }
        settle(turn, 'completed', event);
        break;
      }
      case 'llm.failed':
        turn.error = event.payload.error;
        settle(turn, 'failed', event);
        break;
      case 'llm.verdict':
        if (event.payload.verdict === 'deny' && event.payload.phase !== 'after')
          settle(turn, 'denied', event);
        else if (event.payload.verdict === 'park') turn.state = 'waiting';
        break;
      default:
        break;
    }
    return turn;
  }

  #call(event: JournalEvent, op: number): ToolCallModel | undefined {
    let call = this.#callsByOp.get(op);
    if (!call) {
      const callId = 'callId' in event.payload ? event.payload.callId : undefined;
      if (callId === undefined) return undefined;
      call = this.#newCall(event, op, callId);
    }
    call.seqs.push(event.seq);
    applyToCall(call, event);
    return call;
  }

  #newCall(event: JournalEvent, op: number, callId: string): ToolCallModel {
    const agentName =
      (event.type === 'tool.requested' ? event.payload.agent : undefined) ??
      (event.actor.startsWith('agent:') ? event.actor.slice('agent:'.length) : undefined);
    const agent = this.#openAgent(agentName);
    let key = `${agent?.key ?? 'run'}/call:${callId}`;
    if (this.#callKeys.has(key)) key = `${key}#${op}`;
    this.#callKeys.add(key);
    const call: ToolCallModel = {
      key,
      callId,
      op,
      name: 'name' in event.payload ? event.payload.name : '',
      seq: event.seq,
      at: event.at,
      seqs: [],
      state: 'running',
      attempts: 1,
    };
    if (agentName !== undefined) call.agentName = agentName;
    if (agent) {
      call.agent = agent.key;
      agent.calls.push(key);
    }
    const turn = this.#askedBy.get(`${agent?.key ?? 'run'}\0${callId}`);
    if (turn) {
      call.turn = turn.key;
      turn.asked.push(key);
    }
    this.#callsByOp.set(op, call);
    this.model.calls.push(call);
    return call;
  }

  #approval(event: JournalEvent, call: ToolCallModel | undefined): ApprovalModel | undefined {
    if (event.type === 'approval.requested') {
      const { payload } = event;
      const approval: ApprovalModel = {
        approvalId: payload.approvalId,
        op: payload.op,
        name: payload.name,
        kind: payload.kind,
        summary: payload.summary,
        requestedBy: payload.requestedBy,
        stages: payload.stages.map((stage) => ({ approvers: [...stage.approvers] })),
        seq: event.seq,
        at: event.at,
        seqs: [event.seq],
        state: 'waiting',
        edited: false,
      };
      if (call) {
        approval.call = call.key;
        call.approval = payload.approvalId;
        if (call.endSeq === undefined) call.state = 'waiting';
      }
      this.#approvals.set(payload.approvalId, approval);
      this.model.approvals.push(approval);
      return approval;
    }
    if (event.type !== 'approval.escalated' && event.type !== 'approval.decided') return undefined;
    const approval = this.#approvals.get(event.payload.approvalId);
    if (!approval) return undefined;
    approval.seqs.push(event.seq);
    if (event.type === 'approval.decided') {
      const { decision, by, comment, args } = event.payload;
      Object.assign(approval, { decision, by, edited: args !== undefined });
      if (comment !== undefined) approval.comment = comment;
      settle(approval, decision === 'approved' ? 'completed' : 'denied', event);
    }
    return approval;
  }

  #wait(event: JournalEvent, op: number, call: ToolCallModel | undefined): WaitModel | undefined {
    const open = (kind: WaitKind, name: string, extra: Partial<WaitModel> = {}): WaitModel => {
      const wait: WaitModel = {
        key: `${kind}:${op}:${event.seq}`,
        kind,
        op,
        name,
        open: true,
        seq: event.seq,
        at: event.at,
        seqs: [event.seq],
        state: 'waiting',
        ...extra,
      };
      this.#waits.set(`${kind}:${op}`, wait);
      this.model.waits.push(wait);
      return wait;
    };
    const close = (
      kind: WaitKind,
      state: ItemState,
      extra: Partial<WaitModel> = {},
    ): WaitModel | undefined => {
      const wait = this.#waits.get(`${kind}:${op}`);
      if (!wait?.open) return undefined;
      wait.open = false;
      wait.seqs.push(event.seq);
      Object.assign(wait, extra);
      settle(wait, state, event);
      return wait;
    };
    const onCall = call ? { call: call.key } : {};
    switch (event.type) {
      case 'timer.set':
        return open('timer', event.payload.name, { until: event.payload.fireAt });
      case 'timer.fired':
        return close('timer', 'completed');
      case 'signal.awaited':
        return open('signal', event.payload.name, optional('until', event.payload.deadline));
      case 'signal.received': {
        const sender = optional('sentBy', event.payload.sentBy);
        const received = close('signal', 'completed', sender);
        if (received) return received;
        const wait = open('signal', event.payload.name, sender);
        return close('signal', 'completed') ?? wait;
      }
      case 'signal.timedOut':
        return close('signal', 'failed');
      case 'child.started':
        return open('child', event.payload.workflow, { ref: event.payload.childRunId });
      case 'child.completed':
        return close('child', 'completed');
      case 'child.failed':
        return close('child', 'failed');
      case 'approval.requested': {
        const approvers = event.payload.stages[0]?.approvers ?? [];
        return open('approval', event.payload.name, { ref: event.payload.approvalId, approvers, ...onCall });
      }
      case 'approval.decided':
        return close('approval', event.payload.decision === 'approved' ? 'completed' : 'denied');
      case 'tool.verdict':
        if (event.payload.verdict === 'park')
          return open('park', event.payload.name, { ...optional('ref', event.payload.signal), ...onCall });
        if (event.payload.phase === 'decided')
          return close('park', event.payload.verdict === 'deny' ? 'denied' : 'completed');
        return undefined;
      case 'tool.inDoubt':
        return event.payload.resolution === 'park'
          ? open('in-doubt', event.payload.name, { ...optional('ref', event.payload.signal), ...onCall })
          : undefined;
      case 'tool.resolved':
        return close('in-doubt', event.payload.action === 'skip' ? 'skipped' : 'completed');
      case 'step.attempt.failed':
        close('retry', 'completed');
        return open('retry', event.payload.name, { until: event.payload.retryAt });
      case 'step.completed':
      case 'step.failed':
        return close('retry', 'completed');
      case 'op.cancelled':
        for (const kind of ['timer', 'signal', 'child', 'approval', 'park', 'retry'] as const)
          close(kind, 'skipped');
        return undefined;
      default:
        return undefined;
    }
  }
}

/** A tool call's progress from one of its events. */
function applyToCall(call: ToolCallModel, event: JournalEvent): void {
  switch (event.type) {
    case 'tool.requested':
      Object.assign(call, {
        name: event.payload.name,
        effect: event.payload.effect,
        args: event.payload.args,
        seq: event.seq,
        at: event.at,
      });
      return;
    case 'tool.verdict': {
      const { verdict, phase } = event.payload;
      if (verdict === 'rewrite' && phase !== 'after') call.finalArgs = event.payload.args;
      if (verdict === 'park') call.state = 'waiting';
      else if (verdict === 'deny' && phase !== 'after') settle(call, 'denied', event);
      else if (phase === 'decided') call.state = 'running';
      return;
    }
    case 'tool.authorized':
      call.decision = event.payload.decision;
      if (event.payload.decision === 'deny') settle(call, 'denied', event);
      return;
    case 'tool.retried':
      call.attempts = event.payload.attempt;
      return;
    case 'tool.called':
      call.attempts = event.payload.attempt;
      call.latencyMs = event.payload.latencyMs;
      settle(call, 'completed', event);
      return;
    case 'tool.failed':
      call.attempts = event.payload.attempt;
      call.error = event.payload.error;
      settle(call, 'failed', event);
      return;
    case 'tool.inDoubt':
      if (event.payload.resolution === 'park') call.state = 'waiting';
      return;
    case 'tool.resolved':
      if (event.payload.action === 'skip') settle(call, 'skipped', event);
      else call.state = 'running';
      return;
    default:
      return;
  }
}

/** Ends a span at `event` in `state`. */
function settle(
  span: { state: ItemState; endSeq?: number; endAt?: string },
  state: ItemState,
  event: JournalEvent,
): void {
  span.state = state;
  if (state === 'running' || state === 'waiting') return;
  span.endSeq = event.seq;
  span.endAt = event.at;
}

/** The event types that end a run, and the status each gives it (as run-facts.ts reads them; kept here so the UI's bundle needs no node:crypto). */
const END_STATUSES: Partial<Record<JournalEvent['type'], RunEnd['status']>> = {
  'run.completed': 'completed',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
  'run.continued': 'continued',
  'run.timedOut': 'timed_out',
};

function endOf(event: JournalEvent): {
  seq: number;
  at: string;
  status: NonNullable<RunModel['end']>['status'];
} {
  const status = END_STATUSES[event.type];
  if (status === undefined) throw new RangeError(`${event.type} does not end a run`);
  return { seq: event.seq, at: event.at, status };
}

function identified(payload: { reason?: string; by?: string }): { reason?: string; by?: string } {
  return { ...optional('reason', payload.reason), ...optional('by', payload.by) };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, V>>);
}

/** The workflow an event's identity chain names (before `run.started` is read). */
function workflowOf(event: JournalEvent): string {
  const workflow = [event.actor, ...event.onBehalfOf].find((identity) => identity.startsWith('workflow:'));
  return workflow?.slice('workflow:'.length) ?? '';
}
