import { z } from 'zod';

/**
 * The shapes of the HTTP API: request bodies and query strings are checked against these at the
 * door, and /api/openapi.json is generated from them (z.toJSONSchema), so the description cannot
 * drift from what the server accepts.
 */

const RUN_STATUSES = [
  'pending',
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'continued',
  'timed_out',
] as const;
const TIME = z.union([z.iso.datetime({ offset: true }), z.string().regex(/^\d{1,15}$/)], {
  error: 'an ISO-8601 time or epoch milliseconds',
});
const DIGITS = (most: number) => z.string().regex(new RegExp(`^\\d{1,${most}}$`), 'a whole number');

export const StartRunBody = z
  .strictObject({
    workflow: z.string().min(1).max(128).describe('A workflow registered with the server'),
    input: z.unknown().optional().describe("The workflow's input (JSON)"),
    priority: z.int().min(-1000).max(1000).optional().describe('Higher runs first. Default 0'),
    timeout: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)$/, "a duration such as '30s' or '2h'")
      .optional()
      .describe("Fail the run if not finished within this time: '30s', '2h'"),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .describe(
    'Starts a run as the caller, in its tenant. Send an Idempotency-Key header to start at most once.',
  );

export const ListRunsQuery = z.strictObject({
  status: z
    .string()
    .regex(
      new RegExp(`^(${RUN_STATUSES.join('|')})(,(${RUN_STATUSES.join('|')}))*$`),
      `a comma-separated list of ${RUN_STATUSES.join(', ')}`,
    )
    .optional()
    .describe('Comma-separated statuses'),
  workflow: z.string().min(1).max(128).optional(),
  workflowContains: z.string().min(1).max(128).optional().describe('Part of the workflow name (any case)'),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Text in the run id, the workflow, who started the run, or its input (any case)'),
  agent: z.string().min(1).max(128).optional().describe('Runs in which this agent ran'),
  tenant: z.string().min(1).max(128).optional().describe("The caller's tenant (any other lists nothing)"),
  since: TIME.optional().describe('Runs created at or after this time (ISO-8601 or epoch ms)'),
  until: TIME.optional().describe('Runs created before this time (ISO-8601 or epoch ms)'),
  limit: DIGITS(4).optional().describe('Page size, 1–500. Default 50'),
  cursor: z.string().max(200).optional().describe('The nextCursor of the previous page'),
});

export const JournalQuery = z.strictObject({
  from: DIGITS(12).optional().describe('Only events with seq ≥ from'),
  limit: DIGITS(5)
    .optional()
    .describe('Events per page, 1–5000. Default 1000; `nextCursor` says when more follow'),
  cursor: z
    .string()
    .regex(/^\d{1,12}$/, "the nextCursor of the journal's previous page")
    .optional()
    .describe('The nextCursor of the previous page'),
});

export const StreamQuery = z.strictObject({
  after: DIGITS(12).optional().describe('Only events with seq > after (or send Last-Event-ID)'),
});

export const SignalBody = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(200)
    .refine(
      (name) => !name.startsWith('baton.'),
      "signals named 'baton.…' are the engine's own: decide approvals at /api/runs/{runId}/approvals/{approvalId}",
    )
    .describe('The name the workflow waits for with ctx.waitFor(name)'),
  payload: z.unknown().optional(),
  idempotencyKey: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe(
      'Deliver once: a resend with this key sends nothing (the same key with another payload is 409)',
    ),
});

export const SignalResponse = z.object({
  ok: z.boolean(),
  signalId: z.string(),
  duplicate: z.boolean().describe('True when a signal with the same idempotency key was already delivered'),
});

export const CancelBody = z.strictObject({
  reason: z.string().max(1000).optional(),
  /** `cancel` (default): the run's children are cancelled too; `abandon`: they go on. */
  children: z.enum(['cancel', 'abandon']).optional(),
});

export const ResumeBody = z.strictObject({
  reason: z.string().max(1000).optional(),
  /** A new deadline from now, in ms or as a duration ('2h'); without it, none. */
  timeout: z.union([z.number().int().positive(), z.string().max(40)]).optional(),
});

export const ForkBody = z
  .strictObject({
    at: z.int().min(1).describe("The last seq of the origin's journal the fork reuses"),
    input: z.unknown().optional().describe('Another input for the fork (default: the origin’s)'),
  })
  .describe(
    "Forks the run as the caller: a new run that reuses the origin's journal up to `at` and goes on live from there.",
  );

export const DecideApprovalBody = z
  .strictObject({
    decision: z.enum(['approve', 'deny']),
    reason: z.string().max(2000).optional(),
    args: z
      .unknown()
      .optional()
      .describe("With approve: the tool's arguments to run with instead (checked against its schema)"),
  })
  .describe('Approve (optionally with edited arguments) or deny a pending approval.');

export const ApprovalsQuery = z.strictObject({
  status: z.enum(['pending', 'decided', 'all']).optional().describe('Default pending'),
  mine: z.enum(['true', 'false']).optional().describe('Only approvals the caller may decide now'),
  runId: z.string().min(1).max(200).optional(),
  limit: DIGITS(4).optional().describe('Waiting runs looked at, 1–1000. Default 200'),
});

export const InDoubtQuery = z.strictObject({
  runId: z.string().min(1).max(200).optional().describe('Only the calls of this run'),
  limit: DIGITS(4).optional().describe('At most this many calls, 1–1000. Default 200'),
});

export const ResolveInDoubtBody = z
  .strictObject({
    action: z
      .enum(['retry', 'skip'])
      .describe('retry: run the tool again (same idempotency key); skip: do not run it again'),
    result: z
      .unknown()
      .optional()
      .describe('With skip: the result the model gets (what the outside system says happened)'),
  })
  .describe('Resolves a tool call left in doubt by a crash, as the caller (journaled as tool.resolved).');

export const CostsQuery = z.strictObject({
  since: TIME.optional(),
  until: TIME.optional(),
});

// ---- responses (for the OpenAPI description) -------------------------------------------------

export const ErrorResponse = z.object({
  error: z.object({
    code: z
      .string()
      .describe(
        'Stable: UNAUTHENTICATED, FORBIDDEN, RUN_NOT_FOUND, MALFORMED_JSON, BODY_TOO_LARGE, OVERLOADED, …',
      ),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const SerializedErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
});

export const RunSchema = z.object({
  runId: z.string(),
  workflow: z.string(),
  tenant: z.string(),
  principal: z.string(),
  status: z.enum(RUN_STATUSES),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  error: SerializedErrorSchema.optional(),
  parentRunId: z.string().optional(),
  idempotencyKey: z.string().optional(),
  priority: z.number(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.number().describe('epoch ms'),
  updatedAt: z.number().describe('epoch ms'),
  wakeAt: z.number().optional(),
  deadlineAt: z.number().optional(),
  lastSeq: z.number(),
  cancelRequested: z.boolean(),
});

/** What the server could check of a run it shows (src/journal/run-facts.ts journalView). */
export const RunEvidenceSchema = z.object({
  consistent: z.boolean().describe('The journal chains to the run record, and the record agrees with it'),
  broken: z.object({ seq: z.number(), reason: z.string() }).optional(),
  disagreements: z.array(
    z.object({
      field: z.string(),
      journal: z.string().describe('What the journal holds (shown)'),
      record: z.string().describe('What the run record held'),
    }),
  ),
  signatures: z
    .object({
      ok: z.boolean(),
      final: z.boolean().describe("A checkpoint signs the run's end at its last event"),
      signedSeq: z.number().optional(),
      problems: z.array(z.string()),
    })
    .optional()
    .describe('When the server signs: the checkpoints verified under its key'),
});

export const EventSchema = z.object({
  runId: z.string(),
  seq: z.number(),
  type: z.string().describe('See src/journal/events.ts'),
  at: z.string(),
  actor: z.string(),
  onBehalfOf: z.array(z.string()),
  payload: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

export const RunWaitSchema = z
  .object({
    kind: z.enum(['signal', 'timer', 'retry', 'child', 'approval', 'in-doubt']),
  })
  .catchall(z.unknown())
  .describe(
    'signal {name, deadline?}, timer {name, fireAt}, retry {step, retryAt}, child {childRunId, workflow}, approval {approvalId, action, approvers}, in-doubt {op, tool, callId, since}',
  );
export const RunListResponse = z.object({
  runs: z.array(
    RunSchema.extend({
      waitingOn: z.array(RunWaitSchema).optional().describe('For a waiting run: what it waits on'),
    }),
  ),
  nextCursor: z.string().optional(),
});
export const StartRunResponse = z.object({ run: RunSchema, created: z.boolean() });
export const JournalResponse = z.object({
  run: RunSchema,
  evidence: RunEvidenceSchema,
  events: z.array(EventSchema).describe('One page of the journal, in seq order'),
  messages: z
    .record(z.string(), z.unknown())
    .describe("Every model message the page's events name, by its sha256 hash"),
  nextCursor: z.string().optional().describe('Present when more events follow: pass it as `cursor`'),
});
export const StepDetailResponse = z
  .record(z.string(), z.unknown())
  .describe(
    'An event with everything about its step: prompt, response, arguments, result, identity, decisions, verdicts, usage, cost, time',
  );

export const RunModelResponse = z
  .record(z.string(), z.unknown())
  .describe(
    "The run model derived from the run's journal (the type RunModel): operations, agents, turns, tool calls by agent and call id, waits, approvals, decisions, charges, and links to a parent, a fork's origin and children",
  );

const GraphNodeSchema = z.object({
  id: z.string(),
  deps: z.array(z.string()),
  state: z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'kept', 'chosen']),
  seq: z.number().optional().describe('The event that shows its state (the inspector opens it)'),
  label: z.string().optional(),
});

export const RunGraphsResponse = z.object({
  graphs: z
    .array(
      z.object({
        name: z.string(),
        title: z.string().optional(),
        note: z.string().optional(),
        nodes: z.array(GraphNodeSchema),
        edges: z
          .array(z.object({ from: z.string(), to: z.string(), label: z.string() }))
          .optional()
          .describe("Drawn instead of the nodes' deps, each with its condition or count"),
      }),
    )
    .describe(
      'Graph workflows, plans, state machines, routes (candidates, the chosen one, the reason on its edge), parallel fan-outs and joins, and sequences, in the order the run started them',
    ),
});

export const CostLine = z.object({
  usd: z.number().describe('Dollars of the priced model calls'),
  inputTokens: z.number(),
  outputTokens: z.number(),
  calls: z.number(),
  unpriced: z.number().describe('Model calls whose model has no price: their cost is unknown, not $0'),
});
export const CostsResponse = z.object({
  total: CostLine,
  byAgent: z.array(CostLine.extend({ agent: z.string() })),
  byModel: z.array(CostLine.extend({ model: z.string() })),
  byRun: z.array(CostLine.extend({ runId: z.string() })),
  byWorkflow: z.array(CostLine.extend({ workflow: z.string() })),
  byDay: z.array(CostLine.extend({ day: z.string() })),
  cacheHits: z.number(),
});

export const ApprovalSchema = z.object({
  runId: z.string(),
  approvalId: z.string(),
  workflow: z.string(),
  source: z
    .enum(['guard', 'interceptor'])
    .describe(
      'guard: asked through the guard (approval.requested); interceptor: a call parked by another interceptor',
    ),
  kind: z.enum(['tool', 'model', 'approval', 'budget', 'loop']),
  name: z.string().describe("The gated tool, the approval's action, or the agent whose model call waits"),
  status: z.enum(['pending', 'approved', 'denied']),
  summary: z.string().optional(),
  args: z.unknown().optional().describe('The arguments asked for, or the data shown to the approver'),
  effect: z.string().optional(),
  requestedAt: z.string(),
  requestedBy: z.string(),
  onBehalfOf: z.array(z.string()),
  approvers: z.array(z.string()).describe('Who may decide now, as named; empty: the default rule'),
  until: z.string().optional(),
  canDecide: z.boolean().optional().describe('Whether the caller may decide it now'),
  decidedAt: z.string().optional(),
  decidedBy: z.string().optional(),
  comment: z.string().optional(),
  approvedArgs: z.unknown().optional(),
  timedOut: z.boolean().optional(),
  context: z
    .object({
      agent: z.string(),
      turn: z.int().optional(),
      callId: z.string().optional(),
      message: z
        .string()
        .optional()
        .describe('What the agent said (and reasoned) in the reply that asked for the call'),
    })
    .optional()
    .describe('For a tool call: the agent that asked for it, and why'),
  seq: z.number(),
  op: z.number(),
});
export const ApprovalListResponse = z.object({ approvals: z.array(ApprovalSchema) });

export const InDoubtCallSchema = z.object({
  runId: z.string(),
  op: z.int().describe("The call's op in the run (a number to name it by)"),
  tool: z.string(),
  callId: z.string().describe("The model's id of the call (also names it)"),
  effect: z.enum(['read', 'write', 'irreversible']),
  attempt: z.int().describe('The attempt that may or may not have taken effect'),
  args: z.unknown().optional(),
  idempotencyKey: z.string(),
  actor: z.string(),
  onBehalfOf: z.array(z.string()),
  since: z.string().describe('When the call was found in doubt (ISO-8601)'),
  signal: z.string().describe('The signal that resolves it'),
});

export const InDoubtListResponse = z.object({ calls: z.array(InDoubtCallSchema) });

export const WorkflowListResponse = z.object({
  workflows: z.array(
    z.object({
      name: z.string(),
      description: z.string().optional(),
      graph: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('For graph workflows: nodes, edges, levels'),
      machine: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('For state machine workflows: states, edges with their bounds, cycles'),
      inputSchema: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("The input's JSON Schema, when the workflow declares a zod input schema"),
    }),
  ),
});

export const WorkerSchema = z.object({
  workerId: z.string(),
  host: z.string(),
  pid: z.int(),
  startedAt: z.number().describe('epoch ms'),
  concurrency: z.int().describe('Runs it executes at once, at most'),
  workflows: z.array(z.string()).describe('The workflows it can run'),
  alive: z.boolean().describe('Its last heartbeat has not expired (a crashed worker shows as not alive)'),
  lastBeatAt: z.number().describe('epoch ms'),
  busy: z.int().describe('Runs it executes now, in every tenant'),
  runs: z
    .array(z.object({ runId: z.string(), workflow: z.string(), status: z.string() }))
    .describe('The runs it executes now that the caller may read'),
});
export const WorkerListResponse = z.object({
  tracked: z.boolean().describe('Whether the store keeps a worker list (both built-in stores do)'),
  connected: z.int().describe('Workers alive now'),
  workers: z.array(WorkerSchema),
});

export const AuditQuery = z.strictObject({
  agent: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('The acting agent (`writer`, `agent:writer`), `*` for any run of characters'),
  action: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('A Cedar action (`InvokeTool`) or a grant action (`tool:payments.*`)'),
  as: z.string().min(1).max(200).optional().describe('A principal acted as or for (`user:alice`)'),
  decision: z.enum(['allow', 'deny']).optional(),
  runId: z.string().min(1).max(200).optional(),
  since: z
    .string()
    .max(40)
    .optional()
    .describe('ISO-8601, epoch ms, or a duration back from now (`24h`, `7d`)'),
  until: z.string().max(40).optional(),
  limit: DIGITS(4).optional().describe('At most this many decisions, 1–5000, oldest first. Default 200'),
});

export const AuditEntrySchema = z.object({
  at: z.string(),
  runId: z.string(),
  seq: z.int(),
  actor: z.string(),
  onBehalfOf: z.array(z.string()),
  chain: z.string().describe('`agent:writer for agent:planner for user:alice`'),
  action: z.string(),
  resource: z.string(),
  decision: z.enum(['allow', 'deny']),
  reason: z.string(),
  policies: z.array(z.string()).describe('The ids of the policies that decided (GET /api/policies/{id})'),
  errors: z.array(z.string()),
  grantId: z.string().optional(),
  grantAction: z.string(),
});
export const AuditResponse = z.object({ entries: z.array(AuditEntrySchema) });

export const PolicySchema = z.object({
  id: z.string().describe('The id decisions name (`@id("…")`, or the one Cedar gave it)'),
  effect: z.enum(['permit', 'forbid']),
  text: z.string().describe("The policy's Cedar text"),
  file: z.string(),
  line: z.int(),
  scope: z
    .enum(['runs', 'api'])
    .describe(
      'runs: decides what runs do (tool calls, handoffs, children); api: what callers of this server may do',
    ),
});
export const PolicyListResponse = z.object({ policies: z.array(PolicySchema) });

export type StartRunBody = z.infer<typeof StartRunBody>;
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;
