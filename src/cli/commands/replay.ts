import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkflowDefinition } from '../../engine/workflow.ts';
import { ConfigError, UnknownWorkflowError } from '../../errors.ts';
import { parseHistory } from '../../explain/history-document.ts';
import type { ReplayReport } from '../../explain/replay.ts';
import { replay as replayHistory } from '../../replay.ts';
import type { JournalEvent } from '../../journal/events.ts';
import { UsageError, defineCommand } from '../command.ts';
import type { Output } from '../output.ts';

export const replay = defineCommand({
  name: 'replay',
  summary: "Replay a run's journal against today's code, with no side effects; report the first divergence",
  args: [
    { name: 'run', required: false, description: 'A run id (or an unambiguous start of one); or use --file' },
  ],
  options: {
    'workflow-file': {
      type: 'string',
      value: 'path',
      description: "A module whose exports hold the workflow (default: baton.config.ts's workflows)",
    },
    file: {
      type: 'string',
      value: 'path',
      description: 'Replay an exported history (baton export --format json) instead of a stored run',
    },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  details: [
    'Nothing runs and nothing is written: each ctx call is answered from the journal. The first place the',
    'code asks for something else — a different call at an op, more than a finished run did, a different',
    'result — is printed with its seq and op, and the exit code is 1. A run still in flight replays up to',
    'the end of its journal; what the code would do next is shown, and is not a divergence.',
    '',
    'Examples:',
    '  baton replay run_01k…',
    '  baton replay run_01k… --workflow-file ./src/workflows.ts',
    '  baton replay --file test/golden/refund.json --workflow-file ./src/workflows.ts',
  ].join('\n'),
  async run({ args, options, out, json, cwd, loadConfig, openBaton, findRun }) {
    if (args.run === undefined && options.file === undefined)
      throw new UsageError('Name a run, or give --file <history.json>.', 'replay');
    if (args.run !== undefined && options.file !== undefined)
      throw new UsageError('Name a run or give --file, not both.', 'replay');
    let events: JournalEvent[];
    // A stored run replays with its Baton's context layers; a file with those of a Baton opened
    // with no options (src/replay.ts).
    let replayAgainst: (definition: WorkflowDefinition) => Promise<ReplayReport>;
    let registered: ReadonlyMap<string, WorkflowDefinition>;
    if (options.file !== undefined) {
      const path = resolve(cwd, options.file);
      const history = parseHistory(await readFile(path, 'utf8'), path);
      events = history;
      replayAgainst = (definition) => replayHistory(history, definition);
      registered = new Map(
        ((await loadConfig()).config?.workflows ?? []).map((definition) => [
          definition.name,
          definition as WorkflowDefinition,
        ]),
      );
    } else {
      const baton = await openBaton();
      const run = await findRun(
        baton,
        args.run!,
        options.tenant === undefined ? undefined : { tenant: options.tenant },
      );
      events = await baton.store.readEvents(run.runId);
      replayAgainst = (definition) => baton.replay(run.runId, { workflow: definition, tenant: run.tenant });
      registered = baton.workflows;
    }
    const name = (events[0]?.payload as { workflow?: string } | undefined)?.workflow ?? '';
    const source = options['workflow-file'] === undefined ? 'the registered code' : options['workflow-file'];
    const definition =
      options['workflow-file'] === undefined
        ? registered.get(name)
        : await workflowFromFile(resolve(cwd, options['workflow-file']), name);
    if (!definition) throw new UnknownWorkflowError({ name, known: [...registered.keys()] });
    const report = await replayAgainst(definition);
    if (json) out.json(report);
    else print(out, report, source);
    return report.ok ? 0 : 1;
  },
});

function print(out: Output, report: ReplayReport, source: string): void {
  const head = `Replayed run ${report.runId} (${report.workflow}, ${report.events} events, ${report.ops} ops, ${report.recorded}) against ${source}`;
  if (report.ok) {
    out.line(`${head}: ${out.style('green', 'no divergence')}.`);
    if (report.next)
      out.line(
        out.style(
          'dim',
          `The journal ends there; next the code asks, at op ${report.next.op}, for ${report.next.wants}.`,
        ),
      );
    return;
  }
  const divergence = report.divergence!;
  out.line(`${head}: ${out.style('red', `diverges (${divergence.kind})`)}.`);
  const rows: [string, string][] = [
    ['where', divergence.seq === undefined ? 'after the end of the journal' : `seq ${divergence.seq}`],
    ...(divergence.op === undefined ? [] : [['op', String(divergence.op)] as [string, string]]),
    ['history holds', divergence.recorded],
    ['code asks for', divergence.requested],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) out.line(`  ${out.style('dim', label.padEnd(width))}  ${value}`);
  out.line(divergence.message);
}

/** The workflow named `name` among a module's exports (named, default, a config's `workflows`, or arrays of them). */
async function workflowFromFile(path: string, name: string): Promise<WorkflowDefinition | undefined> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`Cannot load ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
  const found: WorkflowDefinition[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3 || typeof value !== 'object' || value === null) return;
    if ((value as { kind?: unknown }).kind === 'workflow') found.push(value as WorkflowDefinition);
    else if (Array.isArray(value)) for (const entry of value) visit(entry, depth + 1);
    else if (depth === 0 || 'workflows' in value)
      for (const entry of Object.values(value)) visit(entry, depth + 1);
  };
  visit(module, 0);
  const match = found.find((definition) => definition.name === name);
  if (!match && found.length === 0) throw new ConfigError(`${path} exports no workflow.`);
  if (!match)
    throw new UnknownWorkflowError({ name, known: [...new Set(found.map((definition) => definition.name))] });
  return match;
}
