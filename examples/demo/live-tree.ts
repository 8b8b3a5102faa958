// Prints a run's journal as a live tree while it runs: one line per decision or action, indented by
// who acted for whom. It reads only the journal — the same record `baton explain` and the UI read —
// and words each line as `baton history` does (src/cli/event-lines.ts).
import type { Baton } from 'baton';
import type { JournalEvent } from 'baton/journal';
import { agentEventLine } from '../../src/cli/event-lines.ts';

const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text);
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);

export function followRun(
  baton: Baton,
  runId: string,
  write: (line: string) => void,
): { stop(): Promise<void> } {
  let nextSeq = 1;
  let stopped = false;
  const poll = async () => {
    const events = await baton.store.readEvents(runId, nextSeq);
    for (const event of events) {
      nextSeq = event.seq + 1;
      const line = render(event);
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

const style = (kind: 'bold' | 'dim', text: string) => (kind === 'bold' ? bold(text) : dim(text));

function render(event: JournalEvent): string | undefined {
  const p = event.payload as Record<string, any>;
  switch (event.type) {
    case 'run.started':
      return `${bold('●')} run ${p.workflow} started by ${event.actor}`;
    case 'run.completed':
      return `${bold('●')} run completed`;
    case 'run.failed':
      return `${bold('✗')} run failed: ${p.error.message}`;
    default: {
      const line = agentEventLine(event, style);
      // Agents' own actions sit under the agent's line.
      return line === undefined || /^[▸◂◆⇉⇇↪]/.test(line) ? line : `  ${line}`;
    }
  }
}
