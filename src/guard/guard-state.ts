import { isAgentDefinition, type AgentDefinition } from '../agents/agent.ts';
import { Meter } from './budget.ts';

/** Why an agent must not go on: the verdict that stopped it (a budget or a loop), for its next model call. */
export interface AgentStop {
  interceptor: string;
  reason: string;
  data: Record<string, unknown>;
}

/**
 * What the guard knows about one activation of one run: meters, the tool calls agents made, the
 * agents it met. Built afresh for each activation and rebuilt by replay (the interceptors' `after`
 * sees every recorded call again, in the order the calls first finished), so decisions taken on
 * it after a restart are the ones that would have been taken without one.
 */
export class RunGuardState {
  readonly startedAt: number;
  readonly agents = new Map<string, AgentDefinition<any>>();
  readonly meters = new Map<string, Meter>();
  /** Signatures (tool + canonical arguments) of each agent's tool calls, in order, with their ops. */
  readonly toolCalls = new Map<string, { signature: string; op: number }[]>();
  /** Agents to stop at their next model call. */
  readonly stopped = new Map<string, AgentStop>();
  /** The number of model replies after which a person let an agent go on despite its lack of progress. */
  readonly progressAccepted = new Map<string, number>();
  /** The tenant ledger each reserved call was charged in, by op, until it is settled. */
  readonly tenantLedgers = new Map<number, string>();

  constructor(startedAt: number) {
    this.startedAt = startedAt;
  }

  meter(key: string): Meter {
    let meter = this.meters.get(key);
    if (!meter) this.meters.set(key, (meter = new Meter()));
    return meter;
  }

  /** Remembers an agent and every agent it can reach (tools, handoffs), by name. */
  registerAgent(agent: AgentDefinition<any>): void {
    const pending = [agent];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (this.agents.has(next.name)) continue;
      this.agents.set(next.name, next);
      for (const entry of next.tools) if (isAgentDefinition(entry)) pending.push(entry);
      try {
        pending.push(...next.handoffs());
      } catch {
        // A handoff list that cannot be resolved yet fails the agent itself, not the guard.
      }
    }
  }
}

/**
 * The states of the runs active in this process, by run id. An activation starts a fresh state
 * (`begin`); interceptors find it by the call's run id. A state is dropped when its activation's
 * context is garbage collected, or replaced by the run's next activation.
 */
export class GuardStates {
  readonly #states = new Map<string, { state: RunGuardState; owner: WeakRef<object> }>();
  readonly #registry = new FinalizationRegistry<{ runId: string; state: RunGuardState }>(
    ({ runId, state }) => {
      if (this.#states.get(runId)?.state === state) this.#states.delete(runId);
    },
  );

  begin(runId: string, startedAt: number, owner: object): RunGuardState {
    const state = new RunGuardState(startedAt);
    this.#states.set(runId, { state, owner: new WeakRef(owner) });
    this.#registry.register(owner, { runId, state });
    return state;
  }

  /** The run's state; one is started on the spot for calls made outside an activation this guard saw begin. */
  of(runId: string, now: number): RunGuardState {
    const entry = this.#states.get(runId);
    if (entry) return entry.state;
    const state = new RunGuardState(now);
    this.#states.set(runId, { state, owner: new WeakRef({}) });
    return state;
  }
}
