import type { Caller } from './authenticate.ts';
import { z } from 'zod';
import { runView } from '../access/run-view.ts';
import type { JournalEvent } from '../journal/events.ts';
import { graphOf } from '../patterns/graph.ts';
import { machineOf } from '../patterns/machine.ts';
import { UnknownWorkflowError } from '../errors.ts';
import type { RunRecord, RunStatus } from '../store/store.ts';
import { HttpError } from './http-error.ts';
import { parseWith, readJson } from './read-json.ts';
import { costReport, costReportOf, COST_EVENT_TYPES } from '../journal/run-model/cost-report.ts';
import { deriveRunModel } from '../journal/run-model/derive-run-model.ts';
import { graphStates } from '../journal/run-model/run-graphs.ts';
import { parseTime, searchRuns, type RunSearch } from './run-search.ts';
import {
  CancelBody,
  CostsQuery,
  ForkBody,
  JournalQuery,
  ListRunsQuery,
  ResumeBody,
  SignalBody,
  StartRunBody,
} from './schemas.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';
import { journalMessages, stepDetail } from './step-detail.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,256}$/;

/** Runs: start, list and search, read (record, journal, one step, costs), signal, cancel. */
export function runsRoutes(app: ServerApp, parts: ServerParts): void {
  startAndListRoutes(app, parts);
  readRoutes(app, parts);
  costRoutes(app, parts);
  controlRoutes(app, parts);
}

/** The run in the caller's tenant (another tenant's is RUN_NOT_FOUND), which the caller may read. */
async function readableRun({ baton, gate }: ServerParts, caller: Caller, runId: string): Promise<RunRecord> {
  const run = await baton.getRun(runId, { tenant: caller.tenant });
  gate.checkRun(caller, 'ReadRun', run);
  return run;
}

/** The run as shown: journal-held fields from the journal; signatures checked when this server signs. */
function viewOf(
  { baton }: ServerParts,
  record: RunRecord,
  events: readonly JournalEvent[],
  tenant: string,
): ReturnType<typeof runView> {
  return runView(baton.store, record, events, baton.signer?.key.publicKey, { tenant });
}

/** The workflows a run can be started of; starting one; listing and searching runs. */
function startAndListRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;
  app.get('/api/workflows', (c) => {
    const workflows = [...baton.workflows.values()].map((definition) => {
      const graph = graphOf(definition);
      const machine = machineOf(definition);
      return {
        name: definition.name,
        ...(definition.options.description === undefined
          ? {}
          : { description: definition.options.description }),
        ...(graph ? { graph: graph.describe() } : {}),
        ...(machine ? { machine: machine.describe() } : {}),
        ...inputSchemaOf(definition.options.input),
      };
    });
    return c.json({ workflows });
  });

  app.post('/api/runs', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, StartRunBody, parts.maxBodyBytes);
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new HttpError(
        'INVALID_REQUEST',
        'Idempotency-Key: 1–256 printable ASCII characters without spaces.',
      );
    }
    const definition = baton.workflows.get(body.workflow);
    if (!definition)
      throw new UnknownWorkflowError({ name: body.workflow, known: [...baton.workflows.keys()] });
    gate.check(caller, 'StartRun', { kind: 'workflow', name: definition.name });
    const handle = await baton.start(definition, body.input ?? null, {
      as: caller.principal,
      tenant: caller.tenant,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      ...(body.priority === undefined ? {} : { priority: body.priority }),
      ...(body.timeout === undefined ? {} : { timeout: body.timeout as never }),
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
    });
    const run = await handle.get();
    c.header('location', `/api/runs/${encodeURIComponent(run.runId)}`);
    return c.json({ run: publicRun(run), created: handle.created }, handle.created ? 201 : 200);
  });

  app.get('/api/runs', async (c) => {
    const caller = c.get('caller');
    const search = runSearchOf(parseWith(ListRunsQuery, c.req.query()), caller.tenant);
    if (!search) return c.json({ runs: [] });
    const page = await searchRuns(baton, {
      ...search,
      visible: (run) => gate.allowsRun(caller, 'ReadRun', run),
    });
    return c.json({
      runs: await parts.waits.annotate(page.runs.map(publicRun)),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  });
}

/** Reading one run: its view, its journal (paged, or one step), its run model and its costs. */
function readRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton } = parts;

  // A run's view: what the journal holds (principal, tenant, input, status, result, parent) is
  // taken from the journal, with `evidence` saying whether the record and the chain agree.
  app.get('/api/runs/:runId', async (c) => {
    const caller = c.get('caller');
    const record = await readableRun(parts, caller, c.req.param('runId'));
    const events = await baton.store.readEvents(record.runId, 1, { tenant: caller.tenant });
    const { run, evidence } = await viewOf(parts, record, events, caller.tenant);
    return c.json({ run: publicRun(run), evidence });
  });

  app.get('/api/runs/:runId/journal', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(JournalQuery, c.req.query());
    const record = await readableRun(parts, caller, c.req.param('runId'));
    const all = await baton.store.readEvents(record.runId, 1, { tenant: caller.tenant });
    const { events, nextCursor } = journalPage(all, query);
    const { run, evidence } = await viewOf(parts, record, all, caller.tenant);
    return c.json({
      run: publicRun(run),
      evidence,
      events,
      messages: journalMessages(events),
      ...(nextCursor === undefined ? {} : { nextCursor }),
    });
  });

  app.get('/api/runs/:runId/journal/:seq', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(parts, caller, c.req.param('runId'));
    const seq = Number(c.req.param('seq'));
    const events = await baton.store.readEvents(run.runId, 1, { tenant: caller.tenant });
    const detail = Number.isSafeInteger(seq) ? stepDetail(events, seq) : undefined;
    if (!detail)
      throw new HttpError(
        'NOT_FOUND',
        `Run ${run.runId} has no event ${c.req.param('seq')} (its last is ${run.lastSeq}).`,
      );
    return c.json(detail);
  });

  app.get('/api/runs/:runId/model', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(parts, caller, c.req.param('runId'));
    const events = await baton.store.readEvents(run.runId, 1, { tenant: caller.tenant });
    return c.json(deriveRunModel(events));
  });

  app.get('/api/runs/:runId/graph', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(parts, caller, c.req.param('runId'));
    const events = await baton.store.readEvents(run.runId, 1, { tenant: caller.tenant });
    return c.json({ graphs: graphStates(events) });
  });

  app.get('/api/runs/:runId/costs', async (c) => {
    const caller = c.get('caller');
    const run = await readableRun(parts, caller, c.req.param('runId'));
    const events = await baton.store.readEvents(run.runId, 1, { tenant: caller.tenant });
    return c.json(costReportOf([deriveRunModel(events)]));
  });
}

/** Costs across the runs of the caller's tenant that the caller may read. */
function costRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  app.get('/api/costs', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(CostsQuery, c.req.query());
    if (!baton.store.queryEvents)
      throw new HttpError(
        'INVALID_REQUEST',
        `The store at ${baton.store.location} cannot search events across runs.`,
      );
    const since = parseTime(query.since, 'since');
    const until = parseTime(query.until, 'until');
    const events = await baton.store.queryEvents({
      tenant: caller.tenant,
      types: [...COST_EVENT_TYPES],
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      limit: 100_000,
    });
    let visible = events;
    if (gate.enforcing) {
      const allowed = new Map<string, boolean>();
      for (const runId of new Set(events.map((event) => event.runId))) {
        const run = await baton.store.getRun(runId, { tenant: caller.tenant });
        allowed.set(runId, run !== undefined && gate.allowsRun(caller, 'ReadRun', run));
      }
      visible = events.filter((event) => allowed.get(event.runId));
    }
    return c.json(costReport(visible));
  });
}

/** Acting on a run: signal, cancel, fork, pause and resume. */
function controlRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  app.post('/api/runs/:runId/signals', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, SignalBody, parts.maxBodyBytes);
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'SignalRun', run);
    const receipt = await baton.signal(run.runId, body.name, body.payload, {
      as: caller.principal,
      tenant: caller.tenant,
      ...(body.idempotencyKey === undefined ? {} : { idempotencyKey: body.idempotencyKey }),
    });
    return c.json({ ok: true, ...receipt }, 202);
  });

  app.post('/api/runs/:runId/cancel', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, CancelBody, parts.maxBodyBytes);
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'CancelRun', run);
    await baton.cancel(run.runId, {
      tenant: caller.tenant,
      reason: body.reason ?? `cancelled by ${caller.principal}`,
      as: caller.principal,
      ...(body.children === undefined ? {} : { children: body.children }),
    });
    return c.json({ run: publicRun(await baton.getRun(run.runId, { tenant: caller.tenant })) }, 202);
  });

  // A fork is a new run of the origin's workflow: reading the origin and starting its workflow are both needed.
  app.post('/api/runs/:runId/fork', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, ForkBody, parts.maxBodyBytes);
    const origin = await readableRun(parts, caller, c.req.param('runId'));
    gate.check(caller, 'StartRun', { kind: 'workflow', name: origin.workflow });
    const handle = await baton.fork(origin.runId, {
      at: body.at,
      as: caller.principal,
      tenant: caller.tenant,
      ...(body.input === undefined ? {} : { overrides: { input: body.input } }),
    });
    const run = await handle.get();
    c.header('location', `/api/runs/${encodeURIComponent(run.runId)}`);
    return c.json({ run: publicRun(run) }, 201);
  });

  // Pausing stops a run's work until it is resumed: authorized as stopping it (CancelRun).
  app.post('/api/runs/:runId/pause', async (c) => {
    const caller = c.get('caller');
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'CancelRun', run);
    const paused = await baton.pause(run.runId, { tenant: caller.tenant });
    return c.json({ run: publicRun(paused) }, 202);
  });

  app.post('/api/runs/:runId/resume', async (c) => {
    const caller = c.get('caller');
    const body = await readJson(c.req.raw, ResumeBody, parts.maxBodyBytes);
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'ResumeRun', run);
    const resumed = await baton.resume(run.runId, {
      tenant: caller.tenant,
      as: caller.principal,
      ...(body.reason === undefined ? {} : { reason: body.reason }),
      ...(body.timeout === undefined ? {} : { timeout: body.timeout }),
    });
    return c.json({ run: publicRun(resumed) }, 202);
  });
}

/** `{ inputSchema }`: a zod input schema as JSON Schema (for a start form); nothing for another kind. */
function inputSchemaOf(schema: unknown): { inputSchema?: Record<string, unknown> } {
  if (!(schema instanceof z.ZodType)) return {};
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return { inputSchema: json };
}

/** The search a query asks for, in the caller's tenant; undefined when it names another tenant (nothing to list). */
export function runSearchOf(query: ListRunsQuery, tenant: string): Omit<RunSearch, 'visible'> | undefined {
  if (query.tenant !== undefined && query.tenant !== tenant) return undefined;
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (limit < 1 || limit > 500) throw new HttpError('INVALID_REQUEST', 'limit: from 1 to 500.');
  const since = parseTime(query.since, 'since');
  const until = parseTime(query.until, 'until');
  return {
    tenant,
    limit,
    ...(query.status === undefined ? {} : { status: query.status.split(',') as RunStatus[] }),
    ...(query.workflow === undefined ? {} : { workflow: query.workflow }),
    ...(query.workflowContains === undefined ? {} : { workflowContains: query.workflowContains }),
    ...(query.q === undefined ? {} : { text: query.q }),
    ...(query.agent === undefined ? {} : { agent: query.agent }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  };
}

const JOURNAL_PAGE = 1000;
const JOURNAL_PAGE_MOST = 5000;

/**
 * One page of a journal: from the event after `cursor` (the seq the previous page ended at), else
 * from `from`, at most `limit` events; `nextCursor` when more follow.
 */
export function journalPage(
  events: readonly JournalEvent[],
  query: { from?: string; cursor?: string; limit?: string },
): { events: JournalEvent[]; nextCursor?: string } {
  const limit = query.limit === undefined ? JOURNAL_PAGE : Number(query.limit);
  if (limit < 1 || limit > JOURNAL_PAGE_MOST)
    throw new HttpError(
      'INVALID_REQUEST',
      `\`limit\` must be from 1 to ${JOURNAL_PAGE_MOST} (it was ${limit}).`,
    );
  const first = query.cursor !== undefined ? Number(query.cursor) + 1 : Number(query.from ?? 1);
  const start = events.findIndex((event) => event.seq >= first);
  if (start < 0) return { events: [] };
  const page = events.slice(start, start + limit);
  return start + limit < events.length
    ? { events: page, nextCursor: String(page.at(-1)!.seq) }
    : { events: page };
}

/** A run as the API shows it: the lease's owner is the engine's business. */
export function publicRun(
  run: RunRecord,
): Omit<RunRecord, 'leaseOwner' | 'leaseExpiresAt' | 'headHash' | 'wakeGen'> {
  const { leaseOwner: _owner, leaseExpiresAt: _expires, headHash: _head, wakeGen: _gen, ...rest } = run;
  return rest;
}
