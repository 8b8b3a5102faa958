// Replay with the context layers a live run has, for callers outside a Baton (`baton/testing`,
// `baton replay --file`); `baton.replay` passes its own Baton's layers.
import { AccessControl } from './access/access-control.ts';
import { AgentRuntime } from './agents/runtime.ts';
import { contextLayers } from './context-layers.ts';
import type { WorkflowDefinition } from './engine/workflow.ts';
import { replay as replayWith, type ReplayOptions, type ReplayReport } from './explain/replay.ts';
import type { JournalEvent } from './journal/events.ts';

/**
 * Replays a run's journal against today's workflow code with no side effects and reports the first
 * divergence (see the engine-level replay in src/explain/replay.ts). Without `options.layers`, the
 * ctx has the layers of a Baton opened with no options: access (no policies), agents (a fresh
 * runtime: no interceptors, default prices), guard (no approver groups) and routing (not set up).
 *
 * @example
 * const report = await replay(await baton.store.readEvents(runId), support);
 * if (!report.ok) console.log(report.divergence.message);
 */
export function replay(
  history: readonly JournalEvent[] | { events: readonly JournalEvent[] },
  workflow: WorkflowDefinition<any, any, any>,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  return replayWith(history, workflow, { ...options, layers: options.layers ?? bareLayers() });
}

/** The layers of a Baton opened with no options. */
function bareLayers(): ReturnType<typeof contextLayers> {
  return contextLayers({ access: AccessControl.unconfigured(), agents: new AgentRuntime() });
}
