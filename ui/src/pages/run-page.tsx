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
import { HistoryView } from '../components/history-view.tsx';
import { Inspector } from '../components/inspector.tsx';
import { LiveCalls, useLiveCalls } from '../components/live-calls.tsx';
import { JsonView } from '../components/json-view.tsx';
import { PublishedValues } from '../components/published-values.tsx';
import { RunActions } from '../components/run-actions.tsx';
import { useNoWorker } from '../components/worker-notice.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { Timeline } from '../components/timeline.tsx';
import { Link, replaceSearch } from '../router.tsx';
import { buildTimeline, buildTree, deriveRunModel, graphStates, openWaits } from '../model/run-model.ts';
import { groupTree } from '../model/tree-groups.ts';
import type { ApprovalView } from '../api.ts';

const TABS = ['tree', 'graph', 'costs', 'data', 'history'] as const;
type Tab = (typeof TABS)[number];
// The graph view brings React Flow and ELK: loaded when a graph is first shown.
const GraphView = lazy(async () => ({ default: (await import('../components/graph-view.tsx')).GraphView }));
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'continued']);

/** One run: timeline, execution tree, graph, costs, approvals, and the inspector; live while it runs. */
export function RunPage(props: { runId: string; search: string; caller?: string }) {
  const { runId } = props;
  const [run, setRun] = useState<Run | undefined>();
  const [events, setEvents] = useState<JournalEvent[]>([]);
  // Every model message the journal names, by hash (prompts are kept once, referred to by hash).
  const [messages, setMessages] = useState<Record<string, unknown>>({});
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
  const [generation, setGeneration] = useState(0);

  // The journal, then its new events as the run writes them.
  useEffect(() => {
    const controller = new AbortController();
    let close: (() => void) | undefined;
    // A run reopened (resumed in place) is read again and followed anew: its stream had ended.
    if (generation === 0) {
      setRun(undefined);
      setEvents([]);
      setMessages({});
    }
    const addMessages = (more: Record<string, unknown>) =>
      setMessages((current) => ({ ...current, ...more }));
    setError(undefined);
    // The journal comes in pages: the first is shown at once, the rest are added as they arrive.
    const load = async (): Promise<number> => {
      let page = await api.journal(runId, controller.signal);
      setRun(page.run);
      setEvents(page.events);
      addMessages(page.messages);
      let after = page.events.at(-1)?.seq ?? 0;
      while (page.nextCursor !== undefined) {
        page = await api.journal(runId, controller.signal, page.nextCursor);
        addMessages(page.messages);
        const more = page.events;
        const known = after;
        setEvents((current) => [...current, ...more.filter((event) => event.seq > known)]);
        after = page.events.at(-1)?.seq ?? after;
      }
      return after;
    };
    load()
      .then((after) => {
        if (controller.signal.aborted) return;
        close = openStream(`/api/runs/${encodeURIComponent(runId)}/stream?after=${after}`, {
          onEvent(name, data) {
            if (name === 'event') {
              const event = data as JournalEvent;
              if (event.type === 'llm.called')
                api.messagesOf(runId, event.seq).then(addMessages, () => undefined);
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
  }, [runId, generation]);

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
  // Model calls in flight, their text as it streams (the run's live stream), while the run goes on.
  const liveCalls = useLiveCalls(runId, run !== undefined && !finished);

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
  const tree = useMemo(
    () => groupTree(buildTree(events, run ? `run ${run.workflow}` : 'run'), events),
    [events, run?.workflow],
  );
  const graphs = useMemo(() => graphStates(events), [events]);
  const model = useMemo(() => deriveRunModel(events), [events]);
  const waits = useMemo(() => openWaits(model), [model]);
  const pending = approvals.filter((approval) => approval.status === 'pending');
  const noWorker = useNoWorker(run !== undefined && !TERMINAL.has(run.status) && run.paused !== true);

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
          <RunActions
            run={run}
            signals={waits.signals}
            caller={props.caller}
            onReopened={() => setGeneration((current) => current + 1)}
          />
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
          {cancelOf(run) && (
            <>
              <dt>{run.status === 'cancelled' ? 'Cancelled' : 'Cancel asked'}</dt>
              <dd data-testid="cancelled-by">{cancelOf(run)}</dd>
            </>
          )}
          <dt>Cost</dt>
          <dd data-testid="run-cost">
            {costs
              ? `${formatCost(costs.total)} · ${formatCount(costs.total.inputTokens + costs.total.outputTokens)} tokens`
              : '—'}
          </dd>
        </dl>
        {noWorker && (
          <p className="warning" role="status" data-testid="run-no-worker">
            No worker is running:{' '}
            {run.cancelRequested
              ? 'the cancellation takes effect when one starts'
              : run.status === 'waiting'
                ? 'when what it waits for arrives, the run goes on only once one starts'
                : 'this run goes on when one starts'}{' '}
            (baton worker, or baton server --worker).
          </p>
        )}
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
          <TabButton tab="history" current={tab} onSelect={setTab}>
            History
          </TabButton>
        </div>
        <div role="tabpanel" id="run-tab-panel" aria-labelledby={`tab-${tab}`}>
          {tab === 'tree' && <LiveCalls calls={liveCalls} />}
          {tab === 'tree' && <ExecutionTree root={tree} selected={selected} onSelect={setSelected} />}
          {tab === 'history' && (
            <HistoryView events={events} messages={messages} selected={selected} onSelect={setSelected} />
          )}
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
        <Inspector
          runId={runId}
          seq={selected}
          lastSeq={lastSeq}
          liveCalls={liveCalls}
          onClose={() => setSelected(undefined)}
        />
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

/** Who asked the run to cancel and why (`metadata.cancelledBy`, `metadata.cancelReason`). */
function cancelOf(run: Run): string | undefined {
  const metadata = run.metadata as { cancelledBy?: unknown; cancelReason?: unknown } | undefined;
  const by = typeof metadata?.cancelledBy === 'string' ? metadata.cancelledBy : undefined;
  const reason = typeof metadata?.cancelReason === 'string' ? metadata.cancelReason : undefined;
  if (by === undefined && reason === undefined) return undefined;
  return [by && `by ${by}`, reason && `“${reason}”`].filter(Boolean).join(': ');
}

/** Where a fork was made from (`metadata.forkOf`, written by fork). */
function forkOrigin(metadata: unknown): { runId: string; seq: number } | undefined {
  const forkOf = (metadata as { forkOf?: { runId?: unknown; seq?: unknown } } | undefined)?.forkOf;
  return typeof forkOf?.runId === 'string' && typeof forkOf.seq === 'number'
    ? { runId: forkOf.runId, seq: forkOf.seq }
    : undefined;
}
