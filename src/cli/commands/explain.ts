import { explain as explainRun } from '../../explain/explain.ts';
import { formatExplanation } from '../../explain/format-explanation.ts';
import { defineCommand } from '../command.ts';

export const explain = defineCommand({
  name: 'explain',
  summary: 'Explain a run as a tree: each agent turn, what it was asked, decided and why, what happened',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    at: { type: 'string', value: 'seq', description: 'Start from this seq: what came before is summed up' },
    depth: { type: 'string', value: 'N', description: 'Levels of the tree to show (default: all)' },
    expand: { type: 'boolean', description: 'Show what each turn was asked in full' },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  details: [
    'Each node shows its seqs in [brackets]: give one to --at to start there, or to `baton fork --at`.',
    'With --json, the explanation is printed whole (messages resolved, arguments, verdicts, identities).',
    '',
    'Examples:',
    '  baton explain run_01k… --at 12',
    '  baton explain run_01k… --depth 2 --json',
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun, parseInteger }) {
    const at = parseInteger('at', options.at, { min: 1 });
    const depth = parseInteger('depth', options.depth, { min: 1 });
    const baton = await openBaton({ readOnly: true });
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const explanation = await explainRun(baton.store, run.runId, {
      ...(at === undefined ? {} : { at }),
      ...(depth === undefined ? {} : { depth }),
      ...(scope ?? {}),
    });
    if (json) {
      out.json(explanation);
      return;
    }
    const text = formatExplanation(explanation, {
      width: 100,
      expand: options.expand,
      style: (style, value) => out.style(style, value),
    });
    for (const line of text.trimEnd().split('\n')) out.line(line);
  },
});
