import type { JournalEvent } from '../api.ts';
import { JsonView } from './json-view.tsx';

/** The values a run published with ctx.setEvent (its progress, say): the latest per key, from its journal. */
export function PublishedValues(props: { events: readonly JournalEvent[] }) {
  const latest = new Map<string, { value: unknown; seq: number }>();
  for (const event of props.events) {
    if (event.type !== 'event.published') continue;
    const { name, value } = event.payload as { name: string; value: unknown };
    latest.set(name, { value, seq: event.seq });
  }
  if (latest.size === 0) return null;
  return (
    <div className="published-values" data-testid="published-values">
      <h2>Published</h2>
      <dl className="facts">
        {[...latest].map(([key, { value, seq }]) => (
          <div key={key}>
            <dt title={`seq ${seq}`}>{key}</dt>
            <dd>
              <JsonView value={value} label={`Published value ${key}`} />
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
