import { isAgentDefinition, type AgentDefinition } from './agent.ts';
import { isToolDefinition, type ToolDefinition } from './tool.ts';

/** What an agent needs of its caller's grant, and whether it declared it (strict) or it was derived. */
export interface AgentNeeds {
  actions: readonly string[];
  /** True when the agent declared `needs`: a need the caller lacks refuses it. */
  declared: boolean;
}

const derived = new WeakMap<AgentDefinition<any>, readonly string[]>();

/**
 * The grant actions an agent needs: its declared `needs`, or what its tools, agents and handoffs
 * need, through the whole tree (`tool:<name>` and `secret:<each of its secrets>` per tool,
 * `handoff:<agent>` and that agent's own needs per agent called as a tool or handed off to).
 * Agents that hand off to each other are visited once.
 */
export function agentNeeds(agent: AgentDefinition<any>): AgentNeeds {
  if (agent.needs !== undefined) return { actions: agent.needs, declared: true };
  let actions = derived.get(agent);
  if (!actions) {
    const found = new Set<string>();
    collect(agent, found, new Set());
    actions = Object.freeze([...found]);
    derived.set(agent, actions);
  }
  return { actions, declared: false };
}

function collect(agent: AgentDefinition<any>, into: Set<string>, seen: Set<AgentDefinition<any>>): void {
  if (seen.has(agent)) return;
  seen.add(agent);
  const callees: AgentDefinition<any>[] = [...agent.handoffs()];
  for (const entry of agent.tools) {
    if (isToolDefinition(entry)) {
      into.add(`tool:${entry.name}`);
      for (const secret of entry.secrets) into.add(`secret:${secret}`);
    } else callees.push(entry);
  }
  for (const callee of callees) {
    into.add(`handoff:${callee.name}`);
    if (callee.needs !== undefined) for (const need of callee.needs) into.add(need);
    else collect(callee, into, seen);
  }
}

/**
 * Every pool an agent's calls name — its own (model calls), its tools', and those of the agents it
 * calls or hands off to — with where each is named, for checking at the door.
 */
export function agentPools(agent: AgentDefinition<any>): { pool: string; where: string }[] {
  const found: { pool: string; where: string }[] = [];
  const seen = new Set<AgentDefinition<any>>();
  const visit = (current: AgentDefinition<any>): void => {
    if (seen.has(current)) return;
    seen.add(current);
    if (current.pool !== undefined) found.push({ pool: current.pool, where: `Agent '${current.name}'` });
    for (const entry of current.tools) {
      if (isToolDefinition(entry)) found.push(...toolPools(entry, ` (of agent '${current.name}')`));
      else if (isAgentDefinition(entry)) visit(entry);
    }
    for (const target of current.handoffs()) visit(target);
  };
  visit(agent);
  return found;
}

export function toolPools(tool: ToolDefinition, suffix = ''): { pool: string; where: string }[] {
  return tool.pool === undefined ? [] : [{ pool: tool.pool, where: `Tool '${tool.name}'${suffix}` }];
}
