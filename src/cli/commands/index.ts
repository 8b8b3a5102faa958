import type { AnyCommand } from '../command.ts';

/** A command as `baton help` lists it, and how to load it when it runs. */
export interface CommandEntry {
  name: string;
  /** Its positional arguments as its usage line shows them: `<run> <name>`, `[run]`. */
  args: string;
  /** One line for `baton help` (the command's own `summary`). */
  summary: string;
  /** Imports the command's module: only the command that runs is loaded, so `baton --help` is instant. */
  load(): Promise<AnyCommand>;
}

/**
 * Every `baton` command, in the order `baton help` lists them. To add one, write
 * src/cli/commands/<name>.ts exporting `defineCommand({...})` and add an entry here with the same
 * name, arguments and summary (index.test.ts checks that they agree).
 */
export const commands: readonly CommandEntry[] = [
  {
    name: 'start',
    args: '<workflow>',
    summary: 'Start a run and follow it until it finishes or parks',
    load: async () => (await import('./start.ts')).start,
  },
  {
    name: 'worker',
    args: '',
    summary: "Run a worker for the config's workflows until Ctrl-C",
    load: async () => (await import('./worker.ts')).worker,
  },
  {
    name: 'runs',
    args: '',
    summary: 'List runs, newest first',
    load: async () => (await import('./runs.ts')).runs,
  },
  {
    name: 'follow',
    args: '<run>',
    summary: "Follow a run live: its journal as it lands and its models' text as it streams",
    load: async () => (await import('./follow.ts')).follow,
  },
  {
    name: 'show',
    args: '<run>',
    summary: 'Show a run: its state, what it waits on, its result or error',
    load: async () => (await import('./show.ts')).show,
  },
  {
    name: 'history',
    args: '<run>',
    summary: "Print a run's journal: seq, time, type, actor, what happened, hash",
    load: async () => (await import('./history.ts')).history,
  },
  {
    name: 'explain',
    args: '<run>',
    summary: 'Explain a run as a tree: each agent turn, what it was asked, decided and why, what happened',
    load: async () => (await import('./explain.ts')).explain,
  },
  {
    name: 'replay',
    args: '[run]',
    summary: "Replay a run's journal against today's code, with no side effects; report the first divergence",
    load: async () => (await import('./replay.ts')).replay,
  },
  {
    name: 'fork',
    args: '<run>',
    summary: 'Fork a run at a seq: a new run that reuses its journal up to there, then goes on live',
    load: async () => (await import('./fork.ts')).fork,
  },
  {
    name: 'signal',
    args: '<run> <name>',
    summary: 'Send a signal to a run (its ctx.waitFor(name) receives the data)',
    load: async () => (await import('./signal.ts')).signal,
  },
  {
    name: 'get-event',
    args: '<run> <key>',
    summary: 'Read a value a run published with ctx.setEvent (its progress, say)',
    load: async () => (await import('./get-event.ts')).getEvent,
  },
  {
    name: 'query',
    args: '<run> <name>',
    summary: "Answer a query the run's workflow declares, from the values the run published",
    load: async () => (await import('./query.ts')).query,
  },
  {
    name: 'cancel',
    args: '<run>',
    summary: 'Cancel a run and its children',
    load: async () => (await import('./cancel.ts')).cancel,
  },
  {
    name: 'pause',
    args: '<run>',
    summary: 'Pause a run: no worker takes it until it is resumed',
    load: async () => (await import('./pause.ts')).pause,
  },
  {
    name: 'resume',
    args: '<run>',
    summary: 'Resume a paused run, or a failed, timed-out or cancelled run in place',
    load: async () => (await import('./resume.ts')).resume,
  },
  {
    name: 'approve',
    args: '<run> <approval>',
    summary: 'Approve a pending approval of a run (ctx.approval, a gated tool call, a budget, a loop)',
    load: async () => (await import('./approve.ts')).approve,
  },
  {
    name: 'deny',
    args: '<run> <approval>',
    summary: 'Deny a pending approval of a run',
    load: async () => (await import('./deny.ts')).deny,
  },
  {
    name: 'approvals',
    args: '',
    summary: 'List approvals waiting for a decision (the approval inbox)',
    load: async () => (await import('./approvals.ts')).approvals,
  },
  {
    name: 'in-doubt',
    args: '[run]',
    summary: 'List tool calls a crash left in doubt, parked until a person resolves them',
    load: async () => (await import('./in-doubt.ts')).inDoubt,
  },
  {
    name: 'resolve',
    args: '<run> <call>',
    summary: 'Resolve a tool call in doubt: run it again, or skip it (optionally giving its result)',
    load: async () => (await import('./resolve.ts')).resolve,
  },
  {
    name: 'verify',
    args: '[run]',
    summary: "Check a run's hash chain and signed checkpoints; report the first broken link or bad signature",
    load: async () => (await import('./verify.ts')).verify,
  },
  {
    name: 'export',
    args: '<run>',
    summary: "Write a run's audit bundle (events, checkpoints, key) or, with --format, its history",
    load: async () => (await import('./export.ts')).exportRun,
  },
  {
    name: 'audit',
    args: '',
    summary: 'List who did what, for whom, under which authorization (tool calls, hand-offs, approvals…)',
    load: async () => (await import('./audit.ts')).audit,
  },
  {
    name: 'graph',
    args: '<workflow>',
    summary: "Print a graph or state machine workflow's structure, or the plans and loops a run took",
    load: async () => (await import('./graph.ts')).graph,
  },
  {
    name: 'pools',
    args: '',
    summary: 'Show resource pools: queue depth, waits, calls in flight, utilization',
    load: async () => (await import('./pools.ts')).pools,
  },
  {
    name: 'workers',
    args: '',
    summary: 'List the workers connected to the store and what each is running',
    load: async () => (await import('./workers.ts')).workers,
  },
  {
    name: 'server',
    args: '',
    summary: 'Serve the HTTP API and the web UI (runs, timelines, approvals, costs) until Ctrl-C',
    load: async () => (await import('./server.ts')).server,
  },
  {
    name: 'init',
    args: '[dir]',
    summary: 'Write a new project: package.json, baton.config.ts, a workflow with an agent, app.ts',
    load: async () => (await import('./init.ts')).init,
  },
  {
    name: 'migrate',
    args: '',
    summary: 'Create or upgrade the store schema',
    load: async () => (await import('./migrate.ts')).migrate,
  },
];
