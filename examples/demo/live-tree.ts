// Prints a run's journal as a live tree while it runs: one line per decision or action, indented by
// who acted for whom. It reads only the journal — the same record `baton explain` and the UI read.
import type { Baton, JournalEvent } from 'baton';

const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text);
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);

export function followRun(
  baton: Baton,
  runId: string,
  write: (line: string) => void,
): { stop(): Promise<void> } {
  let nextSeq = 1;
  let stopped = false;
  const requested = new Map<string, JournalEvent>();
  const poll = async () => {
    const events = await baton.store.readEvents(runId, nextSeq);
    for (const event of events) {
      nextSeq = event.seq + 1;
      const line = render(event, requested);
      const who =
        event.actor.startsWith('agent:') && /^  /.test(line ?? '') ? dim(`${event.actor.slice(6)} `) : '';
      if (line) write(`${'  '.repeat(depth(event))}${line.replace(/^  /, `  ${who}`)}`);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await poll();
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

function depth(event: JournalEvent): number {
  if (!event.actor.startsWith('agent:')) return 1;
  return Math.max(1, event.onBehalfOf.filter((who) => who.startsWith('agent:')).length + 2);
}

function short(value: unknown, max = 70): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function render(event: JournalEvent, requested: Map<string, JournalEvent>): string | undefined {
  const p = event.payload as Record<string, any>;
  switch (event.type) {
    case 'run.started':
      return `${bold('●')} run ${p.workflow} started by ${event.actor}`;
    case 'route.decided':
      return `◆ route ${p.name} → ${bold(String(p.chosen))}${p.reason ? dim(`  (${short(p.reason, 80)})`) : ''}`;
    case 'parallel.started':
      return `⇉ parallel ${p.name}: ${(p.branches as string[]).join(', ')}`;
    case 'parallel.completed':
      return `⇇ parallel ${p.name}: ${(p.succeeded as string[]).length} succeeded`;
    case 'agent.started':
      return `▸ agent ${bold(String(p.name))} ${dim(`(${p.model})`)}`;
    case 'llm.called': {
      const calls = (p.response.toolCalls as { name: string }[]).map((call) => call.name);
      const what = calls.length ? `→ ${calls.join(', ')}` : '→ answer';
      const usage = p.usage as { inputTokens: number; outputTokens: number };
      return `  ✦ model call ${p.turn} ${what} ${dim(`${usage.inputTokens}+${usage.outputTokens} tokens, ${p.latencyMs} ms`)}`;
    }
    case 'tool.requested':
      requested.set(`${p.op}`, event);
      return `  ⚙ ${p.name} ${dim(short(p.args, 60))}${p.effect === 'irreversible' ? ' [irreversible]' : ''}`;
    case 'tool.called':
      return `  ✓ ${p.name} ${dim(`${p.latencyMs} ms`)}`;
    case 'tool.failed':
      return `  ✗ ${p.name}: ${short(p.error.message)}`;
    case 'tool.authorized':
      return `  ⚖ ${p.name}: ${p.decision} ${dim(short((p.policies ?? []).join(', ')))}`;
    case 'guard.verdict':
      return `  🛡 ${p.guardrail ?? p.name}: ${p.verdict ?? p.type ?? ''} ${dim(short(p.reason ?? ''))}`;
    case 'approval.requested':
      return `  ⏸ ${bold('waiting for approval')} ${p.approvalId}: ${short(p.summary, 60)}`;
    case 'approval.decided':
      return `  ▶ ${p.decision} by ${p.by}${p.comment ? dim(` — ${short(p.comment, 50)}`) : ''}`;
    case 'agent.completed':
      return `◂ ${p.name} done ${dim(`${p.turns} turn(s), $${Number(p.costUsd).toFixed(4)}`)}`;
    case 'agent.handedOff':
      return `↪ ${p.name} hands off to ${p.to}`;
    case 'run.completed':
      return `${bold('●')} run completed`;
    case 'run.failed':
      return `${bold('✗')} run failed: ${p.error.message}`;
    default:
      return undefined;
  }
}
