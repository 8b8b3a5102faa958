import { z } from 'zod';
import {
  ApprovalListResponse,
  ApprovalSchema,
  ApprovalsQuery,
  CancelBody,
  ResumeBody,
  CostLine,
  CostsQuery,
  CostsResponse,
  EventSchema,
  SerializedErrorSchema,
  WorkerSchema,
  WorkerListResponse,
  ForkBody,
  PolicySchema,
  PolicyListResponse,
  AuditQuery,
  AuditEntrySchema,
  AuditResponse,
  DecideApprovalBody,
  InDoubtListResponse,
  InDoubtQuery,
  InDoubtCallSchema,
  ResolveInDoubtBody,
  ErrorResponse,
  JournalQuery,
  JournalResponse,
  ListRunsQuery,
  RunListResponse,
  RunEvidenceSchema,
  RunGraphsResponse,
  RunModelResponse,
  RunSchema,
  SignalBody,
  SignalResponse,
  StartRunBody,
  StartRunResponse,
  StepDetailResponse,
  StreamQuery,
  WorkflowListResponse,
} from './schemas.ts';
import {
  GetEventQuery,
  PublishedValueSchema,
  PublishedValuesResponse,
  QueryResponse,
} from './published-values-routes.ts';
import { LiveStreamQuery, StreamTokenResponse } from './live-stream-routes.ts';
import { ChatQuery, ChatRequestBody } from './ai-sdk-ui-routes.ts';

interface Operation {
  method: 'get' | 'post';
  path: string;
  summary: string;
  operationId: string;
  auth?: false;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** status → schema, or 'sse' for an event stream. */
  responses: Record<number, z.ZodType | 'sse'>;
  headers?: { name: string; description: string }[];
}

const RUN_ID = { name: 'runId', in: 'path', required: true, schema: { type: 'string' } } as const;

/** Every route of the API, as the OpenAPI description states it (a test checks it against the app's routes). */
export const API_OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/api/health',
    summary: 'Liveness',
    operationId: 'health',
    auth: false,
    responses: { 200: z.object({ ok: z.boolean() }) },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This description',
    operationId: 'openapi',
    auth: false,
    responses: { 200: z.record(z.string(), z.unknown()) },
  },
  {
    method: 'get',
    path: '/api/me',
    summary: 'The authenticated caller',
    operationId: 'me',
    responses: {
      200: z.object({ principal: z.string(), tenant: z.string(), via: z.string(), policies: z.boolean() }),
    },
  },
  {
    method: 'get',
    path: '/api/workflows',
    summary: 'Workflows this server can start',
    operationId: 'listWorkflows',
    responses: { 200: WorkflowListResponse },
  },
  {
    method: 'post',
    path: '/api/runs',
    summary: 'Start a run',
    operationId: 'startRun',
    body: StartRunBody,
    headers: [
      {
        name: 'Idempotency-Key',
        description:
          'Starting again with the same key (in the tenant) returns the same run (200 instead of 201)',
      },
    ],
    responses: {
      201: StartRunResponse,
      200: StartRunResponse,
      404: ErrorResponse,
      413: ErrorResponse,
      429: ErrorResponse,
    },
  },
  {
    method: 'get',
    path: '/api/runs',
    summary: 'List and search runs, newest first',
    operationId: 'listRuns',
    query: ListRunsQuery,
    responses: { 200: RunListResponse },
  },
  {
    method: 'get',
    path: '/api/runs/stream',
    summary: 'Live list: a `runs` event with the first page whenever it changes',
    operationId: 'streamRuns',
    query: ListRunsQuery,
    responses: { 200: 'sse' },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}',
    summary: 'A run',
    operationId: 'getRun',
    responses: { 200: z.object({ run: RunSchema, evidence: RunEvidenceSchema }), 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/journal',
    summary: "A run's journal, with every model message by hash",
    operationId: 'getJournal',
    query: JournalQuery,
    responses: { 200: JournalResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/journal/{seq}',
    summary: 'The step of an event, for the inspector',
    operationId: 'getStep',
    responses: { 200: StepDetailResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/stream',
    summary: "A run's new events as server-sent events: `event` (id = seq), `run` (status changes), `end`",
    operationId: 'streamRun',
    query: StreamQuery,
    headers: [{ name: 'Last-Event-ID', description: 'Resume after this seq' }],
    responses: { 200: 'sse', 404: ErrorResponse, 429: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/live',
    summary:
      "A run's live stream as server-sent events: journal events and the deltas of work in flight (model text, reasoning, tool-call arguments, progress, step-started, interrupted), each `id` the cursor to resume after; ends with an `end` part. Authenticates with a stream token (`?token=`) too",
    operationId: 'liveStreamRun',
    query: LiveStreamQuery,
    headers: [{ name: 'Last-Event-ID', description: 'Resume after this cursor (wins over `after`)' }],
    responses: { 200: 'sse', 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/stream-token',
    summary:
      "A short-lived token that opens this run's live streams only (for EventSource, which sends no Authorization header)",
    operationId: 'createStreamToken',
    responses: { 200: StreamTokenResponse, 403: ErrorResponse, 404: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/chat',
    summary:
      "The AI SDK's UI message stream for useChat: the chat id is a run's id; the last user message is sent as the signal `message`, approvals answered are decided, and the run's answer streams until it parks",
    operationId: 'chat',
    query: ChatQuery,
    body: ChatRequestBody,
    responses: { 200: 'sse', 400: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/chat/{runId}/stream',
    summary:
      "Resumes the answer a run is giving as a UI message stream (useChat's resume); 204 when it is not answering",
    operationId: 'resumeChat',
    query: ChatQuery,
    responses: { 200: 'sse', 204: z.null(), 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/model',
    summary: "The run model derived from a run's journal: what every view of the run is drawn from",
    operationId: 'getRunModel',
    responses: { 200: RunModelResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/graph',
    summary:
      'The graphs a run drew, from its journal: graph workflows, plans, state machines, routes with their conditions on the edges, parallel branches fanning out and joining, sequences',
    operationId: 'getRunGraph',
    responses: { 200: RunGraphsResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/costs',
    summary:
      "A run's model spend by agent, model and day (the run model's charges; unpriced calls counted apart)",
    operationId: 'getRunCosts',
    responses: { 200: CostsResponse, 404: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/signals',
    summary: 'Send a signal to a run',
    operationId: 'signalRun',
    body: SignalBody,
    responses: { 202: SignalResponse, 404: ErrorResponse, 409: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/events',
    summary: 'The values a run published (ctx.setEvent), latest per key',
    operationId: 'listRunEvents',
    responses: { 200: PublishedValuesResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/events/{key}',
    summary: "The latest value a run published under a key, waiting up to 'timeout' for it",
    operationId: 'getRunEvent',
    query: GetEventQuery,
    responses: { 200: PublishedValueSchema, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/runs/{runId}/queries/{name}',
    summary: "A query the run's workflow declares, answered from its published values",
    operationId: 'queryRun',
    responses: { 200: QueryResponse, 404: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/cancel',
    summary: 'Cancel a run (and its children, unless `children` is `abandon`)',
    operationId: 'cancelRun',
    body: CancelBody,
    responses: { 202: z.object({ run: RunSchema }), 404: ErrorResponse, 409: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/fork',
    summary: 'Fork a run at a seq: a new run reusing its journal up to there, going on live',
    operationId: 'forkRun',
    body: ForkBody,
    responses: {
      201: z.object({ run: RunSchema }),
      400: ErrorResponse,
      403: ErrorResponse,
      404: ErrorResponse,
    },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/pause',
    summary: 'Pause a run: no worker takes it until it is resumed (authorized as CancelRun)',
    operationId: 'pauseRun',
    responses: { 202: z.object({ run: RunSchema }), 404: ErrorResponse, 409: ErrorResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/resume',
    summary: 'Resume a paused run, or a failed, timed-out or cancelled run in place',
    operationId: 'resumeRun',
    body: ResumeBody,
    responses: { 202: z.object({ run: RunSchema }), 404: ErrorResponse, 409: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/approvals',
    summary: 'The approvals inbox',
    operationId: 'listApprovals',
    query: ApprovalsQuery,
    responses: { 200: ApprovalListResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/approvals/{approvalId}',
    summary: 'Approve (optionally with edited arguments) or deny',
    operationId: 'decideApproval',
    body: DecideApprovalBody,
    responses: {
      202: z.object({ approval: ApprovalSchema }),
      403: ErrorResponse,
      404: ErrorResponse,
      409: ErrorResponse,
    },
  },
  {
    method: 'get',
    path: '/api/in-doubt',
    summary: 'Tool calls a crash left in doubt, parked until a person resolves them',
    operationId: 'listInDoubt',
    query: InDoubtQuery,
    responses: { 200: InDoubtListResponse },
  },
  {
    method: 'post',
    path: '/api/runs/{runId}/in-doubt/{call}',
    summary: 'Resolve a tool call in doubt (by op or call id): retry it, or skip it with a result',
    operationId: 'resolveInDoubt',
    body: ResolveInDoubtBody,
    responses: {
      202: z.object({ call: InDoubtCallSchema, action: z.enum(['retry', 'skip']), by: z.string() }),
      400: ErrorResponse,
      403: ErrorResponse,
      404: ErrorResponse,
      409: ErrorResponse,
    },
  },
  {
    method: 'get',
    path: '/api/workers',
    summary: 'Whether any worker is connected, and what each is running',
    operationId: 'listWorkers',
    responses: { 200: WorkerListResponse },
  },
  {
    method: 'get',
    path: '/api/audit',
    summary: 'Who did what, for whom, under which grant and policies (authorization decisions), oldest first',
    operationId: 'audit',
    query: AuditQuery,
    responses: { 200: AuditResponse, 400: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/policies',
    summary: 'The Cedar policies behind the decisions runs journal and this server makes',
    operationId: 'listPolicies',
    responses: { 200: PolicyListResponse },
  },
  {
    method: 'get',
    path: '/api/policies/{id}',
    summary: 'A policy a decision names, with its text',
    operationId: 'getPolicy',
    responses: { 200: PolicyListResponse, 404: ErrorResponse },
  },
  {
    method: 'get',
    path: '/api/costs',
    summary: "The tenant's model spend by agent, model and run",
    operationId: 'getCosts',
    query: CostsQuery,
    responses: { 200: CostsResponse },
  },
];

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  400: 'A request the server cannot act on (INVALID_REQUEST and others)',
  403: 'Forbidden by policy',
  404: 'Not found (also: a run of another tenant)',
  409: 'Conflict',
  413: 'Body too large',
  429: 'Overloaded; see Retry-After',
};

/**
 * The shapes shared by many operations, described once under `components.schemas` and referred to
 * by `$ref` wherever they appear.
 */
const COMPONENTS: Readonly<Record<string, z.ZodType>> = {
  Error: ErrorResponse,
  SerializedError: SerializedErrorSchema,
  Run: RunSchema,
  RunEvidence: RunEvidenceSchema,
  Event: EventSchema,
  CostLine,
  Costs: CostsResponse,
  Approval: ApprovalSchema,
  InDoubtCall: InDoubtCallSchema,
  PublishedValue: PublishedValueSchema,
  Worker: WorkerSchema,
  Policy: PolicySchema,
  AuditEntry: AuditEntrySchema,
};

/** JSON Schemas of every zod schema the description uses: components by name, the rest inline. */
class SchemaBook {
  readonly #registry = z.registry<{ id: string }>();
  readonly #inline = new Map<z.ZodType, string>();
  #json: Record<string, Record<string, unknown>> | undefined;

  constructor(components: Readonly<Record<string, z.ZodType>>) {
    for (const [id, schema] of Object.entries(components)) this.#registry.add(schema, { id });
  }

  /** Registers `schema` to be described inline; returns the name to look it up by. */
  add(schema: z.ZodType): void {
    if (this.#registry.has(schema)) return;
    const id = `inline-${this.#inline.size}`;
    this.#inline.set(schema, id);
    this.#registry.add(schema, { id });
  }

  /** `{ $ref }` for a component, else the schema itself (whose parts may refer to components). */
  of(schema: z.ZodType): Record<string, unknown> {
    const inline = this.#inline.get(schema);
    if (inline === undefined) {
      const id = this.#registry.get(schema)?.id;
      if (id === undefined) throw new Error('Describe every schema with add() before reading it.');
      return { $ref: `#/components/schemas/${id}` };
    }
    return this.#all()[inline]!;
  }

  components(): Record<string, Record<string, unknown>> {
    const all = this.#all();
    return Object.fromEntries(Object.keys(COMPONENTS).map((id) => [id, all[id]!]));
  }

  #all(): Record<string, Record<string, unknown>> {
    if (this.#json) return this.#json;
    const { schemas } = z.toJSONSchema(this.#registry, {
      io: 'input',
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    });
    this.#json = Object.fromEntries(
      Object.entries(schemas).map(([id, schema]) => {
        const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
        return [id, rest];
      }),
    );
    return this.#json;
  }
}

/** The OpenAPI 3.1 description of the API, built from the same zod schemas the server checks requests with. */
export function openApiDocument(version: string): Record<string, unknown> {
  const book = new SchemaBook(COMPONENTS);
  for (const operation of API_OPERATIONS) {
    if (operation.body) book.add(operation.body);
    for (const schema of Object.values(operation.responses)) if (schema !== 'sse') book.add(schema);
  }
  const jsonSchema = (schema: z.ZodType) => book.of(schema);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of API_OPERATIONS) {
    const parameters: unknown[] = [];
    for (const match of operation.path.matchAll(/\{(\w+)\}/g)) {
      parameters.push(
        match[1] === 'runId'
          ? RUN_ID
          : { name: match[1], in: 'path', required: true, schema: { type: 'string' } },
      );
    }
    if (operation.query) {
      for (const [name, schema] of Object.entries(operation.query.shape)) {
        const json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<
          string,
          unknown
        >;
        const { description, ...rest } = json;
        delete rest.$schema;
        parameters.push({
          name,
          in: 'query',
          required: false,
          schema: rest,
          ...(description ? { description } : {}),
        });
      }
    }
    for (const header of operation.headers ?? []) {
      parameters.push({
        name: header.name,
        in: 'header',
        required: false,
        description: header.description,
        schema: { type: 'string' },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(operation.responses)) {
      const description = STATUS_TEXT[Number(status)] ?? 'Response';
      responses[status] =
        schema === 'sse'
          ? {
              description: `${description}: text/event-stream`,
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            }
          : { description, content: { 'application/json': { schema: jsonSchema(schema) } } };
    }
    if (operation.auth !== false)
      responses['401'] = {
        description: 'No token, or a bad one',
        content: { 'application/json': { schema: jsonSchema(ErrorResponse) } },
      };
    responses.default = {
      description: 'An error: { error: { code, message } }',
      content: { 'application/json': { schema: jsonSchema(ErrorResponse) } },
    };
    (paths[operation.path] ??= {})[operation.method] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.auth === false ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: operation.method === 'post' && operation.body === StartRunBody,
              content: { 'application/json': { schema: jsonSchema(operation.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baton API',
      version,
      description:
        'Start, search and read durable agent runs, their journals and costs; send signals, decide approvals, cancel. ' +
        'Every request carries Authorization: Bearer <API token or JWT>; a run of another tenant is 404. Errors are { error: { code, message } }.',
    },
    servers: [{ url: '/' }],
    components: {
      schemas: book.components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
