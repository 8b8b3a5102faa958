import { useMemo, useRef, useState, type UIEvent } from 'react';
import type { JournalEvent } from '../api.ts';
import { formatTime, messageText } from './format.ts';

/** Rows drawn at once beyond the visible ones, above and below: scrolling stays smooth. */
const OVERSCAN = 12;
const ROW_HEIGHT = 30;
const VISIBLE_ROWS = 16;

/** The text a filter is matched against: type, actor, and the payload as JSON. */
function searchable(event: JournalEvent): string {
  return `${event.seq} ${event.type} ${event.actor} ${JSON.stringify(event.payload)}`.toLowerCase();
}

/** One line for an event: its `name` when it has one, else its payload, briefly. */
function summaryOf(event: JournalEvent): string {
  const payload = event.payload as Record<string, unknown>;
  const name = typeof payload.name === 'string' ? payload.name : undefined;
  const rest = JSON.stringify(payload);
  const text = name ? `${name} · ${rest}` : rest;
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

/**
 * Every event of the run, filterable by text and type, in a list that draws only the rows in view
 * (a run of thousands of events scrolls as one of a few). Choosing a row shows its payload with
 * real newlines and, for a model call, what its prompt added to the previous turn's.
 */
export function HistoryView(props: {
  events: readonly JournalEvent[];
  messages: Readonly<Record<string, unknown>>;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  const [text, setText] = useState('');
  const [type, setType] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const list = useRef<HTMLDivElement>(null);
  const types = useMemo(() => [...new Set(props.events.map((event) => event.type))].sort(), [props.events]);
  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return props.events.filter(
      (event) =>
        (type === '' || event.type === type) && (needle === '' || searchable(event).includes(needle)),
    );
  }, [props.events, text, type]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil(scrollTop / ROW_HEIGHT) + VISIBLE_ROWS + OVERSCAN);
  const chosen = props.events.find((event) => event.seq === props.selected);

  return (
    <div className="history" data-testid="history">
      <div className="history-filters">
        <label>
          Filter
          <input
            type="search"
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder="type, actor or payload text"
          />
        </label>
        <label>
          Type
          <select value={type} onChange={(event) => setType(event.target.value)}>
            <option value="">every type</option>
            {types.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <span className="muted" role="status" data-testid="history-count">
          {shown.length === props.events.length
            ? `${shown.length.toLocaleString()} events`
            : `${shown.length.toLocaleString()} of ${props.events.length.toLocaleString()} events`}
        </span>
      </div>
      <div
        className="history-list"
        ref={list}
        style={{ height: Math.min(shown.length, VISIBLE_ROWS) * ROW_HEIGHT + 2 }}
        onScroll={(event: UIEvent<HTMLDivElement>) => setScrollTop(event.currentTarget.scrollTop)}
        role="list"
        aria-label="Journal events"
        data-rows={last - first}
      >
        <div style={{ height: shown.length * ROW_HEIGHT, position: 'relative' }}>
          {shown.slice(first, last).map((event, index) => (
            <div
              role="listitem"
              key={event.seq}
              className="history-row-item"
              style={{ top: (first + index) * ROW_HEIGHT, height: ROW_HEIGHT }}
            >
              <button
                type="button"
                className={`history-row${event.seq === props.selected ? ' selected' : ''}`}
                onClick={() => props.onSelect(event.seq)}
                data-seq={event.seq}
                aria-current={event.seq === props.selected ? 'true' : undefined}
              >
                <span className="history-seq">{event.seq}</span>
                <span className="history-type">{event.type}</span>
                <span className="history-actor">{event.actor}</span>
                <span className="history-summary">{summaryOf(event)}</span>
              </button>
            </div>
          ))}
        </div>
      </div>
      {chosen && <EventDetail event={chosen} events={props.events} messages={props.messages} />}
    </div>
  );
}

function EventDetail(props: {
  event: JournalEvent;
  events: readonly JournalEvent[];
  messages: Readonly<Record<string, unknown>>;
}) {
  const { event } = props;
  return (
    <section className="history-detail" aria-label={`Event ${event.seq}`} data-testid="history-detail">
      <h3>
        {event.seq} · {event.type}
      </h3>
      <p className="muted">
        {formatTime(event.at)} · {event.actor}
        {event.onBehalfOf.length > 0 && ` for ${event.onBehalfOf.join(' for ')}`}
      </p>
      {event.type === 'llm.called' && (
        <PromptDiff event={event} events={props.events} messages={props.messages} />
      )}
      <h4>Payload</h4>
      <Readable value={event.payload} />
    </section>
  );
}

interface ModelRequestPayload {
  turn?: number;
  name?: string;
  request?: { base?: string; append?: string[] };
}

/**
 * A model call's prompt as a diff against the agent's previous turn: the journal keeps each request
 * as the previous conversation (`base`) plus the messages it appends, so the appended ones are
 * exactly what is new.
 */
function PromptDiff(props: {
  event: JournalEvent;
  events: readonly JournalEvent[];
  messages: Readonly<Record<string, unknown>>;
}) {
  const payload = props.event.payload as ModelRequestPayload;
  const appended = payload.request?.append ?? [];
  const previous = props.events
    .filter(
      (other) =>
        other.type === 'llm.called' && other.seq < props.event.seq && other.actor === props.event.actor,
    )
    .at(-1);
  return (
    <div className="prompt-diff" data-testid="prompt-diff">
      <h4>Prompt</h4>
      <p className="muted">
        {previous
          ? `The prompt of event ${previous.seq} (turn ${(previous.payload as ModelRequestPayload).turn ?? '?'}), then what this turn adds:`
          : 'The first prompt of this agent:'}
      </p>
      {appended.map((hash) => {
        const message = props.messages[hash] as { role?: string } | undefined;
        return (
          <pre key={hash} className={`diff-added role-${message?.role ?? 'unknown'}`}>
            <span className="diff-role">+ {message?.role ?? 'message'}</span>
            {'\n'}
            {message === undefined
              ? `(message ${hash.slice(0, 12)}… not in this page)`
              : messageText(message)}
          </pre>
        );
      })}
    </div>
  );
}

/** A value as a reader wants it: strings with their real newlines, nested objects indented. */
export function Readable(props: { value: unknown }) {
  const { value } = props;
  if (typeof value === 'string')
    return value.includes('\n') ? (
      <pre className="readable-text">{value}</pre>
    ) : (
      <span>{JSON.stringify(value)}</span>
    );
  if (value === null || typeof value !== 'object') return <span>{String(value)}</span>;
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value);
  if (entries.length === 0) return <span>{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <dl className="readable">
      {entries.map(([key, item]) => (
        <div key={key} className="readable-entry">
          <dt>{key}</dt>
          <dd>
            <Readable value={item} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
