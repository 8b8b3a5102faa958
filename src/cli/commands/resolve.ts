import { UsageError, defineCommand } from '../command.ts';
import { brief } from '../output.ts';

export const resolve = defineCommand({
  name: 'resolve',
  summary: 'Resolve a tool call in doubt: run it again, or skip it (optionally giving its result)',
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    {
      name: 'call',
      required: true,
      description: "The call's op number or the model's call id (`baton in-doubt` lists them)",
    },
  ],
  options: {
    retry: { type: 'boolean', description: 'Run the tool again, with the same idempotency key' },
    skip: {
      type: 'boolean',
      description: 'Do not run it again; the model is told it may or may not have taken effect',
    },
    result: {
      type: 'string',
      value: 'JSON',
      description: 'Do not run it again; give the model this result (what the outside system says happened)',
    },
    as: {
      type: 'string',
      value: 'principal',
      description: 'Who resolves it (e.g. user:ops), journaled; required',
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details: [
    'The resolution is sent to the run as a durable signal; a worker resumes the run and journals',
    'tool.resolved (action, who). Nothing is sent when the run has no such call in doubt.',
    '',
    'Examples:',
    '  baton resolve run_01jd… 7 --retry --as user:ops',
    `  baton resolve run_01jd… call_x2 --result '{"refunded": true}' --as user:ops`,
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun, parseJson, command }) {
    const chosen = [options.retry, options.skip, options.result !== undefined].filter(Boolean).length;
    if (chosen === 0 || (options.retry && chosen > 1)) {
      throw new UsageError(
        'Say what to do: --retry, or --skip (with --result <json> to give the model a result).',
        command.name,
      );
    }
    if (options.as === undefined || options.as === '')
      throw new UsageError('Say who resolves the call with --as (e.g. --as user:ops).', command.name);
    const result = parseJson('result', options.result);
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const call = args.call!;
    const resolved = await baton.resolveInDoubt(run.runId, {
      action: options.retry ? 'retry' : 'skip',
      ...(/^\d+$/.test(call) ? { op: Number(call) } : { callId: call }),
      ...(result === undefined ? {} : { result }),
      as: options.as,
      ...(scope ?? {}),
    });
    const action = options.retry ? 'retry' : 'skip';
    if (json) {
      out.json({
        runId: run.runId,
        op: resolved.op,
        callId: resolved.callId,
        tool: resolved.tool,
        action,
        by: options.as,
      });
      return;
    }
    const what = options.retry
      ? 'run it again'
      : result === undefined
        ? 'skip it'
        : `skip it, with the result ${brief(result, 60)}`;
    out.line(
      `Resolved call ${resolved.callId} (${resolved.tool}, op ${resolved.op}) of run ${run.runId}: ${what}, as ${options.as}. A worker resumes the run.`,
    );
  },
});
