import type { ForkOverrides } from '../../explain/fork.ts';
import { UsageError, defineCommand } from '../command.ts';

export const fork = defineCommand({
  name: 'fork',
  summary: 'Fork a run at a seq: a new run that reuses its journal up to there, then goes on live',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    at: { type: 'string', value: 'seq', description: 'The last seq of the run the fork reuses (required)' },
    input: { type: 'string', value: 'JSON', description: "Another input for the fork's code" },
    model: {
      type: 'string',
      multiple: true,
      value: 'id | agent=id',
      description: 'Another model for every agent, or for one (repeat for several)',
    },
    instructions: {
      type: 'string',
      value: 'text',
      description: 'Other instructions (system prompt) for every agent',
    },
    as: {
      type: 'string',
      value: 'principal',
      description: 'Who forks, as journaled (default: user:anonymous). Trusted operator input, not checked',
    },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
    timeout: {
      type: 'string',
      value: 'duration',
      description: "The fork's own timeout from now (e.g. 2h); default the run's",
    },
  },
  details: [
    'The fork journals events 1…seq of the run (copied, re-sealed in its own chain), then run.forked pointing',
    'at the run and seq; the run gets a run.forkedTo note. Turns after the fork point use the overrides.',
    'A worker runs the fork (`baton worker`, or any running one); follow it with `baton show <fork>`.',
    '',
    'Examples:',
    '  baton fork run_01k… --at 7 --model openai:gpt-4.1',
    `  baton fork run_01k… --at 3 --input '{"ticket": "T-2"}' --model billing=anthropic:claude-sonnet-4-5`,
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun, parseJson, parseInteger }) {
    const at = parseInteger('at', options.at, { min: 1 });
    if (at === undefined)
      throw new UsageError(
        'Say where to fork with --at <seq> (see `baton explain <run>` for the seqs).',
        'fork',
      );
    const overrides: ForkOverrides = {};
    if (options.input !== undefined) overrides.input = parseJson('input', options.input);
    if (options.model.length > 0) overrides.model = models(options.model);
    if (options.instructions !== undefined) overrides.instructions = options.instructions;
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const origin = await findRun(baton, args.run!, scope);
    const handle = await baton.fork(origin.runId, {
      at,
      overrides,
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
    if (json) {
      out.json({ runId: handle.runId, from: { runId: origin.runId, seq: at }, copied: at, overrides });
      return;
    }
    out.line(
      `Forked run ${origin.runId} at seq ${at} as run ${out.style('bold', handle.runId)} (events 1–${at} copied).`,
    );
    out.line(
      out.style('dim', `A worker goes on from there: baton worker, then baton explain ${handle.runId}.`),
    );
  },
});

/** `--model id` for every agent, `--model agent=id` for one. */
function models(values: readonly string[]): string | Record<string, string> {
  const perAgent: Record<string, string> = {};
  let every: string | undefined;
  for (const value of values) {
    const named = /^([A-Za-z0-9_.-]{1,64})=(.+)$/.exec(value);
    if (named) perAgent[named[1]!] = named[2]!;
    else every = value;
  }
  if (every !== undefined && Object.keys(perAgent).length > 0) {
    throw new UsageError(
      'Give --model once as an id for every agent, or as agent=id for some; not both.',
      'fork',
    );
  }
  return every ?? perAgent;
}
