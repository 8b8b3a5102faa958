import { defineCommand } from '../command.ts';
import { brief, formatDateTime } from '../output.ts';

export const inDoubt = defineCommand({
  name: 'in-doubt',
  summary: 'List tool calls a crash left in doubt, parked until a person resolves them',
  args: [{ name: 'run', required: false, description: 'Only the calls of this run' }],
  options: {
    tenant: { type: 'string', value: 'tenant', description: 'Only calls of runs of this tenant' },
    limit: { type: 'string', value: 'N', description: 'At most N calls (default 200)' },
  },
  details: [
    'A tool call is in doubt when its process died after the call started and before its result was',
    'journaled. Read tools and idempotent tools run again by themselves; other write and irreversible',
    'tools park their run here, holding no worker, until a person says what happened:',
    '  baton resolve <run> <call> --retry              run the tool again (same idempotency key)',
    "  baton resolve <run> <call> --skip               don't; the model is told it may or may not have run",
    `  baton resolve <run> <call> --result '{"ok":1}'  don't; the model gets this result`,
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun, parseInteger }) {
    const limit = parseInteger('limit', options.limit, { min: 1, max: 10_000 }) ?? 200;
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const calls =
      args.run === undefined
        ? await baton.inDoubtCalls({ limit, ...(scope ?? {}) })
        : (await baton.inDoubt((await findRun(baton, args.run, scope)).runId, scope)).slice(0, limit);
    if (json) {
      out.json({ calls });
      return;
    }
    if (calls.length === 0) {
      out.line('No tool call is in doubt.');
      return;
    }
    out.table(
      [
        { key: 'run', title: 'RUN' },
        { key: 'op', title: 'OP', align: 'right' },
        { key: 'call', title: 'CALL' },
        { key: 'tool', title: 'TOOL' },
        { key: 'effect', title: 'EFFECT' },
        { key: 'since', title: 'SINCE (UTC)' },
        { key: 'args', title: 'ARGUMENTS' },
      ],
      calls.map((call) => ({
        run: call.runId,
        op: String(call.op),
        call: call.callId,
        tool: call.tool,
        effect: call.effect,
        since: formatDateTime(call.since),
        args: brief(call.args, 50),
      })),
    );
    out.line(
      out.style(
        'dim',
        `Resolve one: baton resolve <run> <op or call> --retry | --skip | --result '<json>' --as <you>`,
      ),
    );
  },
});
