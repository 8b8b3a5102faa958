import type { WorkflowContext } from '../engine/context.ts';
import { ConfigError } from '../errors.ts';
import type { RecalledMemory } from '../routing/memory.ts';
import type { AgentDefinition } from './agent.ts';
import { historyText } from './history-budget.ts';
import type { JournalMessage } from './messages.ts';
import type { AgentRuntime } from './runtime.ts';

/**
 * What an agent with `memory.recall` remembers for its task: the memories kept for `agent:<name>`
 * in the run's tenant that are most relevant to the task and fit the budget, journaled as
 * `memory.recalled` (through the Baton's LongTermMemory). On replay the journaled memories are
 * returned, with or without a LongTermMemory; a live recall without one fails with ConfigError.
 */
export function recallForAgent(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  agent: AgentDefinition<any>,
  task: JournalMessage,
): Promise<RecalledMemory[]> {
  const recall = agent.memory?.recall;
  if (!recall) return Promise.resolve([]);
  const owner = `agent:${agent.name}`;
  const query = historyText(task);
  if (runtime.memory) return runtime.memory.recall(ctx, query, { ...recall, agent: owner });
  return ctx.operations.run(`memory:${owner}`, async (op) => {
    const recorded = op.recorded.find((event) => event.type === 'memory.recalled');
    if (recorded) return recorded.payload.items;
    throw new ConfigError(
      `Agent '${agent.name}' recalls long-term memory (agent({ memory: { recall } })), but this Baton has none: ` +
        `pass Baton.open({ agents: { memory: {} } }) (or a LongTermMemory), or set baton.agents.memory.`,
    );
  });
}

/** The system prompt with the recalled memories after it, or as it is when there are none. */
export function withMemories(system: JournalMessage, memories: readonly RecalledMemory[]): JournalMessage {
  if (memories.length === 0) return system;
  const lines = memories.map((memory) => `- ${memory.text}`).join('\n');
  return {
    role: 'system',
    content: `${historyText(system)}\n\nFrom your long-term memory (most relevant first):\n${lines}`,
  };
}
