import { setTimeout as delay } from 'node:timers/promises';
import { POOL_COLUMNS, poolRow } from '../../resources/pool-stats.ts';
import { defineCommand } from '../command.ts';

export const pools = defineCommand({
  name: 'pools',
  summary: 'Show resource pools: queue depth, waits, calls in flight, utilization',
  options: {
    watch: { type: 'boolean', description: 'Print again every second until Ctrl-C' },
  },
  details: [
    "Pools are named in the config's `pools`, with limits that hold across every worker sharing the store:",
    '  pools: { openai: { concurrency: 8, requestsPerMinute: 500, tokensPerMinute: 200_000 } }',
    'IN FLIGHT and QUEUED count calls in every worker process; waits are over every grant so far.',
    'REQUESTS and TOKENS are what counts in the current window against its limit; UTILIZATION is the',
    'highest of the three. Each worker keeps its own circuit breakers: see its metrics (baton.pools.subscribe).',
  ].join('\n'),
  async run({ options, out, json, shutdown, openBaton }) {
    const baton = await openBaton();
    for (;;) {
      const stats = await baton.pools.stats();
      if (json) {
        if (options.watch) out.jsonLine({ at: new Date().toISOString(), pools: stats });
        else out.json({ pools: stats });
      } else if (stats.length === 0) {
        out.line('No resource pools are configured (add `pools` to baton.config.ts).');
      } else {
        const now = Date.now();
        out.table(
          POOL_COLUMNS,
          stats.map((entry) => poolRow(entry, now)),
        );
      }
      if (!options.watch || shutdown.aborted) return 0;
      await delay(1000, undefined, { signal: shutdown }).catch(() => {});
      if (shutdown.aborted) return 0;
      if (!json) out.line();
    }
  },
});
