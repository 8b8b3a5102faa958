import {
  lazy,
  Suspense,
  useEffect,
  useMemo,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
} from 'react';
import { api, openStream, type CostReport, type JournalEvent, type Run } from '../api.ts';
import { ApprovalCard } from '../components/approval-card.tsx';
import { CostTables } from '../components/cost-tables.tsx';
import { ExecutionTree } from '../components/execution-tree.tsx';
import { formatCost, formatCount, formatDuration, formatTime } from '../components/format.ts';
import { Inspector } from '../components/inspector.tsx';
import { JsonView } from '../components/json-view.tsx';
import { PublishedValues } from '../components/published-values.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Timeline } from '../components/timeline.tsx';
import { Link, replaceSearch } from '../router.tsx';
import { buildTimeline, buildTree, deriveRunModel, graphStates, openWaits } from '../model/run-model.ts';
import type { ApprovalView } from '../api.ts';

const TABS = ['tree', 'graph', 'costs', 'data'] as const;
type Tab = (typeof TABS)[number];
// The graph view brings React Flow and ELK: loaded when a graph is first shown.
const GraphView = lazy(async () => ({ default: (await import('../components/graph-view.tsx')).GraphView }));
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'continued']);

/** One run: timeline, execution tree, graph, costs, approvals, and the inspector; live while it runs. */
export function RunPage(props: { runId: string; search: string }) {
  const { runId } = props;
  const [run, setRun] = useState<Run | undefined>();
  const [events, setEvents] = useState<JournalEvent[]>([]);
  const [error, setError] = useState<string | undefined>();
  // The selected step and the tab live in the address (`?step=12&tab=costs`): a link or a reload keeps them.
  const { selected, tab } = viewOf(props.search);
  const setView = (change: { step?: number | null; tab?: Tab }) => {
    const params = new URLSearchParams(window.location.search);
    if (change.step === null) params.delete('step');
    else if (change.step !== undefined) params.set('step', String(change.step));
    if (change.tab === 'tree') params.delete('tab');
    else if (change.tab !== undefined) params.set('tab', change.tab);
    replaceSearch(params);
  };
  const setSelected = (seq: number | undefined) => setView({ step: seq ?? null });
  const setTab = (next: Tab) => setView({ tab: next });
  const [now, setNow] = useState(() => Date.now());
  const [costs, setCosts] = useState<CostReport | undefined>();
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [live, setLive] = useState<'open' | 'reconnecting' | 'ended'>('reconnecting');

  // The journal, then its new events as the run writes them.
  useEffect(() => {
    const controller = new AbortController();
    let close: (() => void) | undefined;
    setRun(undefined);
    setEvents([]);
    setError(undefined);
    api
      .journal(runId, controller.signal)
      .then((journal) => {
        setRun(journal.run);
        setEvents(journal.events);
        const after = journal.events.at(-1)?.seq ?? 0;
        close = openStream(`/api/runs/${encodeURIComponent(runId)}/stream?after=${after}`, {
          onEvent(name, data) {
            if (name === 'event') {
              const event = data as JournalEvent;
              setEvents((current) =>
                current.some((known) => known.seq === event.seq)
                  ? current
                  : [...current, event].sort((a, b) => a.seq - b.seq),
              );
            } else if (name === 'run') setRun(data as Run);
          },
          onStatus: setLive,
        });
      })
      .catch((reason: unknown) => {
        if (!controller.signal.aborted) setError(reason instanceof Error ? reason.message : String(reason));
      });
    return () => {
      controller.abort();
      close?.();
    };
  }, [runId]);

  const lastSeq = events.at(-1)?.seq ?? 0;

  // Esc closes the inspector.
  useEffect(() => {
    if (selected === undefined) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) setSelected(undefined);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });
  const finished = run !== undefined && TERMINAL.has(run.status);

  // The clock for bars still going on.
  useEffect(() => {
    if (finished) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [finished]);

  // Costs and approvals follow the journal.
  useEffect(() => {
    if (!run) return;
    const controller = new AbortController();
    api.runCosts(runId, controller.signal).then(setCosts, () => undefined);
    api.approvals(`status=all&runId=${encodeURIComponent(runId)}`, controller.signal).then(
      (value) => setApprovals(value.approvals),
      () => undefined,
    );
    return () => controller.abort();
  }, [runId, lastSeq, run?.status]);

  const timeline = useMemo(() => buildTimeline(events, now), [events, now]);
  const tree = useMemo(() => buildTree(events, run ? `run ${run.workflow}` : 'run'), [events, run?.workflow]);
  const graphs = useMemo(() => graphStates(events), [events]);
  const model = useMemo(() => deriveRunModel(events), [events]);
  const waits = useMemo(() => openWaits(model), [model]);
  const pending = approvals.filter((approval) => approval.status === 'pending');

  if (error) return <p className="error">{error}</p>;
  if (!run) return <p className="muted">Loading…</p>;
  const forkOf = forkOrigin(run.metadata);
  return (
    <div className={`run-page${selected !== undefined ? ' with-inspector' : ''}`}>
      <section className="run-main">
        <div className="page-head">
          <h1 title={run.runId}>{run.workflow}</h1>
          <StatusBadge status={run.status} paused={run.paused} />
          <span className={`live live-${finished ? 'ended' : live}`}>
            {finished ? 'finished' : live === 'open' ? 'live' : 'connecting…'}
          </span>
          <span className="grow" />
          <RunActions run={run} signals={waits.signals} />
        </div>
        <dl className="facts inline">
          <dt>Run</dt>
          <dd data-testid="run-id">{run.runId}</dd>
          <dt>Started by</dt>
          <dd>{run.principal}</dd>
          <dt>Tenant</dt>
          <dd>{run.tenant}</dd>
          <dt>Created</dt>
          <dd>{formatTime(run.createdAt)}</dd>
          {/* A parked run is not running: say how long it has waited since it parked. */}
          <dt>{finished ? 'Took' : run.status === 'waiting' ? 'Waiting for' : 'Running for'}</dt>
          <dd>
            {formatDuration(
              (finished ? run.updatedAt : now) - (run.status === 'waiting' ? run.updatedAt : run.createdAt),
            )}
          </dd>
          {forkOf && (
            <>
              <dt>Forked from</dt>
              <dd data-testid="forked-from">
                <Link to={`/runs/${encodeURIComponent(forkOf.runId)}`}>{forkOf.runId}</Link> at seq{' '}
                {forkOf.seq}
              </dd>
            </>
          )}
          <dt>Cost</dt>
          <dd data-testid="run-cost">
            {costs
              ? `${formatCost(costs.total)} · ${formatCount(costs.total.inputTokens + costs.total.outputTokens)} tokens`
              : '—'}
          </dd>
        </dl>
        {run.error && (
          <p className="error">
            {run.error.name}: {run.error.message}
          </p>
        )}
        {pending.length > 0 && (
          <div className="approvals-inline">
            <h2>Waiting for approval</h2>
            {pending.map((approval) => (
              <ApprovalCard
                key={approval.approvalId}
                approval={approval}
                onDecided={() => setNow(Date.now())}
                compact
              />
            ))}
          </div>
        )}

        <PublishedValues events={events} />

        <h2>Timeline</h2>
        <Timeline timeline={timeline} selected={selected} onSelect={setSelected} />

        <div className="tabs" role="tablist" aria-label="Run views" onKeyDown={moveBetweenTabs}>
          <TabButton tab="tree" current={tab} onSelect={setTab}>
            Execution tree
          </TabButton>
          {graphs.length > 0 && (
            <TabButton tab="graph" current={tab} onSelect={setTab}>
              Graph
            </TabButton>
          )}
          <TabButton tab="costs" current={tab} onSelect={setTab}>
            Costs
          </TabButton>
          <TabButton tab="data" current={tab} onSelect={setTab}>
            Input and result
          </TabButton>
        </div>
        <div role="tabpanel" id="run-tab-panel" aria-labelledby={`tab-${tab}`}>
          {tab === 'tree' && <ExecutionTree root={tree} selected={selected} onSelect={setSelected} />}
          {tab === 'graph' && (
            <Suspense fallback={<p className="muted">Loading the graph…</p>}>
              {graphs.map((graph, index) => (
                <div key={`${graph.name}-${index}`}>
                  <h3>{graph.title ?? graph.name}</h3>
                  {graph.note && <p className="muted">{graph.note}</p>}
                  <GraphView graph={graph} selected={selected} onSelect={setSelected} />
                </div>
              ))}
            </Suspense>
          )}
          {tab === 'costs' && (costs ? <CostTables report={costs} /> : <p className="muted">Loading…</p>)}
          {tab === 'data' && (
            <div>
              <h3>Input</h3>
              <JsonView value={run.input} label="Run input" />
              <h3>Result</h3>
              <JsonView value={run.result} label="Run result" />
            </div>
          )}
        </div>
      </section>
      {selected !== undefined && (
        <Inspector runId={runId} seq={selected} lastSeq={lastSeq} onClose={() => setSelected(undefined)} />
      )}
    </div>
  );
}

/** Arrow keys, Home and End move between tabs and choose the tab they land on (the ARIA tabs pattern). */
function moveBetweenTabs(event: ReactKeyboardEvent<HTMLDivElement>) {
  const tabs = [...event.currentTarget.querySelectorAll<HTMLButtonElement>('[role=tab]')];
  const at = tabs.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return;
  const to =
    event.key === 'ArrowRight'
      ? (at + 1) % tabs.length
      : event.key === 'ArrowLeft'
        ? (at - 1 + tabs.length) % tabs.length
        : event.key === 'Home'
          ? 0
          : event.key === 'End'
            ? tabs.length - 1
            : undefined;
  if (to === undefined) return;
  event.preventDefault();
  tabs[to]!.focus();
  tabs[to]!.click();
}

function viewOf(search: string): { selected: number | undefined; tab: Tab } {
  const params = new URLSearchParams(search);
  const step = Number(params.get('step') ?? '');
  const tab = params.get('tab') as Tab | null;
  return {
    selected: params.has('step') && Number.isInteger(step) && step > 0 ? step : undefined,
    tab: tab !== null && TABS.includes(tab) ? tab : 'tree',
  };
}

function TabButton(props: { tab: Tab; current: Tab; onSelect: (tab: Tab) => void; children: string }) {
  return (
    <button
      type="button"
      role="tab"
      id={`tab-${props.tab}`}
      aria-controls="run-tab-panel"
      tabIndex={props.tab === props.current ? 0 : -1}
      aria-selected={props.tab === props.current}
      className={props.tab === props.current ? 'tab active' : 'tab'}
      onClick={() => props.onSelect(props.tab)}
    >
      {props.children}
    </button>
  );
}

function RunActions(props: { run: Run; signals: string[] }) {
  const [signal, setSignal] = useState('');
  const [payload, setPayload] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  if (TERMINAL.has(props.run.status)) return null;
  const send = async () => {
    try {
      const name = signal || props.signals[0];
      if (!name) return;
      await api.signal(props.run.runId, name, payload.trim() === '' ? undefined : JSON.parse(payload));
      setMessage(`Sent ${name}.`);
      setPayload('');
    } catch (error) {
      setMessage(error instanceof Error ? error.message : String(error));
    }
  };
  const cancel = async () => {
    if (!window.confirm(`Cancel run ${props.run.runId}?`)) return;
    try {
      await api.cancel(props.run.runId);
    } catch (error) {
      setMessage(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <div className="run-actions">
      {props.signals.length > 0 && (
        <>
          <select
            value={signal || props.signals[0]}
            onChange={(event) => setSignal(event.target.value)}
            aria-label="Signal"
          >
            {props.signals.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
          <input
            value={payload}
            onChange={(event) => setPayload(event.target.value)}
            placeholder="payload (JSON)"
            aria-label="Signal payload"
          />
          <button type="button" onClick={() => void send()}>
            Send signal
          </button>
        </>
      )}
      <button type="button" className="danger" onClick={() => void cancel()}>
        Cancel run
      </button>
      {message && <span className="muted">{message}</span>}
    </div>
  );
}

/** Where a fork was made from (`metadata.forkOf`, written by fork). */
function forkOrigin(metadata: unknown): { runId: string; seq: number } | undefined {
  const forkOf = (metadata as { forkOf?: { runId?: unknown; seq?: unknown } } | undefined)?.forkOf;
  return typeof forkOf?.runId === 'string' && typeof forkOf.seq === 'number'
    ? { runId: forkOf.runId, seq: forkOf.seq }
    : undefined;
}
