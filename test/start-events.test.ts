import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AgentRuntime } from '../src/agents/runtime.ts';
import { Baton } from '../src/baton.ts';
import { agentEventLine } from '../src/cli/event-lines.ts';
import type { WorkflowContext } from '../src/engine/context.ts';
import { START_EVENTS } from '../src/engine/engine-flags.ts';
import { explainEvents } from '../src/explain/explain.ts';
import type { ExplanationNode } from '../src/explain/explanation.ts';
import { formatExplanation } from '../src/explain/format-explanation.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { defineWorkflow } from './fixtures/start-events-workflows.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';
import { NODE } from './support/pinned-node.ts';

// Start events (engine flag 3, `agents: { startEvents: true }`): a live model call's attempt
// journals `llm.started` before it is sent, a tool call's `tool.started` with its start. They take
// no op, so the ops of a run with them are the ops of the same run without them.

const child = fileURLToPath(new URL('./fixtures/start-events-kill-child.ts', import.meta.url));
const cleanup = cleanupsAfterAll();

async function recordRun(startEvents: boolean): Promise<JournalEvent[]> {
  const store = SqliteStore.open({ path: ':memory:' });
  const define = defineWorkflow();
  const baton = await Baton.open({ store, workflows: [define], agents: { startEvents }, log: () => {} });
  cleanup.push(async () => {
    await baton.close();
    await store.close();
  });
  const run = await baton.start(define, { word: 'alpha' });
  expect(await run.result()).toBe('Looked up alpha.');
  return run.history();
}

const opsOf = (events: readonly JournalEvent[], type: string): number[] =>
  events.filter((event) => event.type === type).map((event) => (event.payload as { op: number }).op);

function walk(nodes: readonly ExplanationNode[]): ExplanationNode[] {
  return nodes.flatMap((node) => [node, ...walk(node.children)]);
}

describe('start events of model and tool calls', () => {
  it('journal each live attempt’s start, without taking an op', async () => {
    const plain = await recordRun(false);
    const started = await recordRun(true);
    expect(
      plain.some(
        (event) =>
          event.type.endsWith('.started') && event.type !== 'run.started' && event.type !== 'agent.started',
      ),
    ).toBe(false);
    expect(started.map((event) => event.type)).toEqual([
      'run.started',
      'agent.started',
      'llm.started',
      'llm.called',
      'tool.requested',
      'tool.started',
      'tool.called',
      'llm.started',
      'llm.called',
      'agent.completed',
      'run.completed',
    ]);
    // The same ops with and without start events; each start names its call's op, model and attempt.
    expect(opsOf(started, 'llm.called')).toEqual(opsOf(plain, 'llm.called'));
    expect(opsOf(started, 'tool.called')).toEqual(opsOf(plain, 'tool.called'));
    expect(opsOf(started, 'llm.started')).toEqual(opsOf(started, 'llm.called'));
    expect(opsOf(started, 'tool.started')).toEqual(opsOf(started, 'tool.called'));
    const llmStart = started.find((event) => event.type === 'llm.started')!;
    expect(llmStart.actor).toBe('agent:reader');
    expect(llmStart.onBehalfOf).toEqual(['workflow:define', 'user:anonymous']);
    expect(llmStart.payload).toMatchObject({
      name: 'reader',
      turn: 1,
      attempt: 1,
      provider: 'baton-testing',
      model: 'scripted',
    });
    const toolStart = started.find((event) => event.type === 'tool.started')!;
    const requested = started.find((event) => event.type === 'tool.requested')!;
    expect(toolStart.payload).toEqual({
      op: (requested.payload as { op: number }).op,
      name: 'docs.lookup',
      callId: (requested.payload as { callId: string }).callId,
      attempt: 1,
      agent: 'reader',
    });
    expect((started[0]!.payload as { flags: number[] }).flags).toContain(START_EVENTS);
    // The doors read them: one line each, and a finished run explains as before.
    expect(agentEventLine(llmStart)).toBe('… model call 1 sent to baton-testing:scripted');
    expect(agentEventLine(toolStart)).toBe('▶ docs.lookup running');
    const statuses = (events: JournalEvent[]) => walk(explainEvents(events).nodes).map((node) => node.status);
    expect(statuses(started)).toEqual(statuses(plain));
  });

  it('are not journaled in runs whose engine did not know them', () => {
    const runtime = new AgentRuntime({ startEvents: true });
    const ctx = (flags: number[]) =>
      ({ operations: { hasFlag: (flag: number) => flags.includes(flag) } }) as unknown as WorkflowContext;
    expect(runtime.journalsStarts(ctx([1, 2]))).toBe(false);
    expect(runtime.journalsStarts(ctx([1, 2, 3]))).toBe(true);
    expect(new AgentRuntime().journalsStarts(ctx([1, 2, 3]))).toBe(false);
  });
});

function runChild(args: string[], kill: boolean) {
  const proc = spawn(NODE, ['--disable-warning=ExperimentalWarning', child, ...args], {
    env: { ...process.env, BATON_KILL_CHILD: kill ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A liveness guard, not a timing check: a child that hangs is killed and the test fails.
  const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      proc.on('exit', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, stdout, stderr });
      }),
  );
}

describe('a run killed between llm.started and llm.called', () => {
  it('shows the call running, then replays: the start is found and the call is made again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-start-events-kill-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'baton.db');

    const first = await runChild([dbPath, dir], true);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const store = SqliteStore.open({ path: dbPath });
    cleanup.push(() => store.close());
    const [run] = await store.listRuns({ workflow: 'define' });
    const killed = await store.readEvents(run!.runId);
    // The second turn's start is the journal's last event: the call was in flight.
    expect(killed.at(-1)!.type).toBe('llm.started');
    expect(killed.at(-1)!.payload).toMatchObject({ turn: 2, attempt: 1 });
    const explained = formatExplanation(explainEvents(killed));
    expect(explained).toMatch(/turn 2 · running/);
    expect(explained).toContain('running: attempt 1 sent to baton-testing:scripted at ');

    const second = await runChild([dbPath, dir], false);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('result "Looked up alpha."');
    // The tool ran once; the interrupted model call was sent again, under the same op, and answered.
    expect(readFileSync(join(dir, 'lookups.log'), 'utf8')).toBe('alpha\n');
    const events = await store.readEvents(run!.runId);
    const secondTurn = (killed.at(-1)!.payload as { op: number }).op;
    const ofTurn = events.filter((event) => (event.payload as { op?: number }).op === secondTurn);
    expect(ofTurn.map((event) => event.type)).toEqual(['llm.started', 'llm.started', 'llm.called']);
    expect(events.at(-1)!.type).toBe('run.completed');
    expect(formatExplanation(explainEvents(events))).not.toContain('running');
  });
});
