import type { JournalEvent } from '../../src/journal/events.ts';
import type { RunRecord } from '../../src/store/store.ts';
import type { ApprovalView } from '../../src/approvals/approval-views.ts';
import type { InDoubtCall } from '../../src/agents/in-doubt.ts';
import type { CostReport } from '../../src/journal/run-model/cost-report.ts';
import type { RunModel } from '../../src/journal/run-model/run-model.ts';
import type { StepDetail } from '../../src/server/step-detail.ts';
import type { GraphDescription } from '../../src/patterns/graph.ts';
import type { WorkerView } from '../../src/server/workers-routes.ts';
import type { RunWait } from '../../src/journal/run-waits.ts';
import type { PolicyView } from '../../src/server/policies-routes.ts';
import type { AuditEntry } from '../../src/access/audit.ts';

/** The API's shapes, as the UI reads them (types only: nothing of the server is bundled). */
export type Run = Omit<RunRecord, 'leaseOwner' | 'leaseExpiresAt' | 'headHash' | 'wakeGen'> & {
  /** In run lists, for a waiting run: what it waits on. */
  waitingOn?: RunWait[];
};
export type {
  JournalEvent,
  ApprovalView,
  CostReport,
  RunModel,
  StepDetail,
  GraphDescription,
  InDoubtCall,
  WorkerView,
};

export interface Journal {
  run: Run;
  events: JournalEvent[];
  messages: Record<string, unknown>;
  /** Present when more events follow this page. */
  nextCursor?: string;
}

export interface WorkerList {
  tracked: boolean;
  connected: number;
  workers: WorkerView[];
}

export interface Caller {
  principal: string;
  tenant: string;
  via: string;
  policies: boolean;
}

export interface WorkflowInfo {
  name: string;
  description?: string;
  graph?: GraphDescription;
  /** The input's JSON Schema, when the workflow declares one. */
  inputSchema?: JsonSchema;
}

/** The part of JSON Schema the start form reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
}

/** An error answered by the API: `{ error: { code, message } }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'baton.token';
/** Events per journal page the UI asks for: the API's most. */
const JOURNAL_PAGE = 5000;
const listeners = new Set<() => void>();

/** The API token: from `#token=…` in the address (then removed from it), else the one kept from before. */
export function takeTokenFromLocation(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  setToken(decodeURIComponent(match[1]!));
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

let signedOutBecause: string | undefined;

/** Why the UI last signed out by itself (a refused token), for the sign-in form to say. */
export function signOutReason(): string | undefined {
  return signedOutBecause;
}

/** Keeps `token` (null signs out); `because` says why the UI signed out by itself. */
export function setToken(token: string | null, because?: string): void {
  signedOutBecause = token === null ? because : undefined;
  if (token === null) localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
  for (const listener of listeners) listener();
}

export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function refused(message: string | undefined): string {
  return `The server refused the token${message ? `: ${message}` : '.'} Paste another to sign in.`;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  const value = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const error = (value as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (response.status === 401) setToken(null, refused(error?.message));
    throw new ApiError(response.status, error?.code ?? 'HTTP', error?.message ?? `HTTP ${response.status}`);
  }
  return value as T;
}

export const api = {
  me: (signal?: AbortSignal) => request<Caller>('GET', '/api/me', undefined, signal),
  workflows: () => request<{ workflows: WorkflowInfo[] }>('GET', '/api/workflows'),
  runs: (query: string, signal?: AbortSignal) =>
    request<{ runs: Run[]; nextCursor?: string }>('GET', `/api/runs?${query}`, undefined, signal),
  run: (runId: string) => request<{ run: Run }>('GET', `/api/runs/${encodeURIComponent(runId)}`),
  /**
   * One page of a run's journal (the largest the API gives: one request for most runs, and one
   * render of the run page instead of one per page): the first, or the one after `cursor`.
   */
  journal: (runId: string, signal?: AbortSignal, cursor?: string) =>
    request<Journal>(
      'GET',
      `/api/runs/${encodeURIComponent(runId)}/journal?limit=${JOURNAL_PAGE}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      undefined,
      signal,
    ),
  /** The model messages the events from `seq` on name (a page of one event: a live model call's prompt). */
  messagesOf: (runId: string, seq: number) =>
    request<Journal>('GET', `/api/runs/${encodeURIComponent(runId)}/journal?from=${seq}&limit=1`).then(
      (page) => page.messages,
    ),
  audit: (query: string, signal?: AbortSignal) =>
    request<{ entries: AuditEntry[] }>('GET', `/api/audit?${query}`, undefined, signal),
  policy: (id: string) =>
    request<{ policies: PolicyView[] }>('GET', `/api/policies/${encodeURIComponent(id)}`),
  workers: (signal?: AbortSignal) => request<WorkerList>('GET', '/api/workers', undefined, signal),
  fork: (runId: string, at: number) =>
    request<{ run: Run }>('POST', `/api/runs/${encodeURIComponent(runId)}/fork`, { at }),
  pause: (runId: string) => request<{ run: Run }>('POST', `/api/runs/${encodeURIComponent(runId)}/pause`),
  resume: (runId: string, reason?: string) =>
    request<{ run: Run }>(
      'POST',
      `/api/runs/${encodeURIComponent(runId)}/resume`,
      reason === undefined ? {} : { reason },
    ),
  step: (runId: string, seq: number, signal?: AbortSignal) =>
    request<StepDetail>('GET', `/api/runs/${encodeURIComponent(runId)}/journal/${seq}`, undefined, signal),
  /** The run model the server derives from the journal (the same the run page derives from its events). */
  runModel: (runId: string, signal?: AbortSignal) =>
    request<RunModel>('GET', `/api/runs/${encodeURIComponent(runId)}/model`, undefined, signal),
  runCosts: (runId: string, signal?: AbortSignal) =>
    request<CostReport>('GET', `/api/runs/${encodeURIComponent(runId)}/costs`, undefined, signal),
  costs: (query: string, signal?: AbortSignal) =>
    request<CostReport>('GET', `/api/costs?${query}`, undefined, signal),
  start: (workflow: string, input: unknown) =>
    request<{ run: Run; created: boolean }>('POST', '/api/runs', { workflow, input }),
  signal: (runId: string, name: string, payload: unknown) =>
    request<{ ok: boolean }>('POST', `/api/runs/${encodeURIComponent(runId)}/signals`, { name, payload }),
  cancel: (runId: string, reason?: string) =>
    request<{ run: Run }>(
      'POST',
      `/api/runs/${encodeURIComponent(runId)}/cancel`,
      reason === undefined ? {} : { reason },
    ),
  approvals: (query: string, signal?: AbortSignal) =>
    request<{ approvals: ApprovalView[] }>('GET', `/api/approvals?${query}`, undefined, signal),
  decide: (
    runId: string,
    approvalId: string,
    decision: { decision: 'approve' | 'deny'; reason?: string; args?: unknown },
  ) =>
    request<{ approval: ApprovalView }>(
      'POST',
      `/api/runs/${encodeURIComponent(runId)}/approvals/${encodeURIComponent(approvalId)}`,
      decision,
    ),
  inDoubt: (signal?: AbortSignal) =>
    request<{ calls: InDoubtCall[] }>('GET', '/api/in-doubt', undefined, signal),
  resolveInDoubt: (runId: string, op: number, resolution: { action: 'retry' | 'skip'; result?: unknown }) =>
    request<{ call: InDoubtCall }>(
      'POST',
      `/api/runs/${encodeURIComponent(runId)}/in-doubt/${op}`,
      resolution,
    ),
};

export interface StreamHandlers {
  onEvent(name: string, data: unknown, id: string | undefined): void;
  /** The stream failed; it reconnects by itself unless the server ended it. */
  onStatus?(status: 'open' | 'reconnecting' | 'ended'): void;
}

/**
 * How long to wait before reconnect attempt `failures`: exponential from 0.5 s, capped at 30 s, with
 * full jitter on the upper half so a restarted server is not met by every tab at once.
 */
export function reconnectDelay(failures: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(failures, 16));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Reads a server-sent event stream with fetch (so the token goes in a header, not the address),
 * reconnecting after a failure with Last-Event-ID. The server ending the stream (after an `end`
 * event) ends it for good. Returns the function that closes it.
 */
export function openStream(path: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  let ended = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const connect = async (): Promise<void> => {
    try {
      const response = await fetch(path, {
        headers: headers({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }),
        signal: controller.signal,
      });
      if (response.status === 401) {
        const answer = (await response.json().catch(() => undefined)) as
          { error?: { message?: string } } | undefined;
        setToken(null, refused(answer?.error?.message));
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      failures = 0;
      handlers.onStatus?.('open');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let name = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') name = text;
            else if (field === 'id') id = text;
            else if (field === 'data') data.push(text);
          }
          if (data.length === 0) continue;
          if (id !== undefined) lastId = id;
          if (name === 'end') ended = true;
          handlers.onEvent(name, JSON.parse(data.join('\n')), id);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      void error;
    }
    if (controller.signal.aborted) return;
    if (ended) {
      handlers.onStatus?.('ended');
      return;
    }
    handlers.onStatus?.('reconnecting');
    retry = setTimeout(() => void connect(), reconnectDelay(++failures));
  };
  void connect();
  return () => {
    clearTimeout(retry);
    controller.abort();
  };
}
