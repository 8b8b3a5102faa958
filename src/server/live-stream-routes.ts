import { z } from 'zod';
import type { RunStreamPart } from '../engine/run-stream-parts.ts';
import { describeHttpError, HttpError } from './http-error.ts';
import { liveSseResponse, type FrameSource } from './live-sse.ts';
import { parseWith } from './read-json.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';
import type { SseChannel } from './sse.ts';

export const LiveStreamQuery = z.strictObject({
  after: z
    .string()
    .max(64)
    .optional()
    .describe('Resume after this cursor (or send Last-Event-ID, which wins)'),
  token: z
    .string()
    .max(2048)
    .optional()
    .describe('A stream token (for EventSource, which sends no Authorization header)'),
});

export const StreamTokenResponse = z.object({
  token: z.string(),
  expiresAt: z.string().describe('ISO-8601'),
  url: z.string().describe('The live stream, with the token'),
});

/**
 * A run's live stream over SSE (`/api/runs/{runId}/live`): journal events and the deltas of work
 * in flight, each frame's `id` the cursor to resume after (`Last-Event-ID`), and the stream token
 * an `EventSource` authenticates with (`POST /api/runs/{runId}/stream-token`).
 */
export function liveStreamRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate } = parts;

  app.post('/api/runs/:runId/stream-token', async (c) => {
    const caller = c.get('caller');
    if (caller.via === 'stream-token')
      throw new HttpError(
        'FORBIDDEN',
        'A stream token cannot be exchanged for another; authenticate with an API token or JWT.',
      );
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'ReadRun', run);
    const { token, claims } = parts.streamTokens.issue(caller, run.runId);
    return c.json({
      token,
      expiresAt: new Date(claims.expiresAt).toISOString(),
      url: `/api/runs/${encodeURIComponent(run.runId)}/live?token=${encodeURIComponent(token)}`,
    });
  });

  app.get('/api/runs/:runId/live', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(LiveStreamQuery, c.req.query());
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'ReadRun', run);
    const after = c.req.header('last-event-id') || query.after;
    return openLiveStream(
      parts,
      c.req.raw.signal,
      run.runId,
      caller.tenant,
      after,
      (part) => `id: ${part.cursor}\ndata: ${JSON.stringify(part)}\n\n`,
    );
  });
}

/**
 * Opens a run's live stream as a pull-based SSE response of `frame(part)`s. The first part is read
 * before answering, so a bad cursor, an unknown run or too many readers is an HTTP error, not a
 * stream that breaks. The stream counts against the server's `maxStreams` and closes with it.
 */
export async function openLiveStream(
  parts: ServerParts,
  signal: AbortSignal,
  runId: string,
  tenant: string,
  after: string | undefined,
  frame: (part: RunStreamPart) => string,
  options: { headers?: Record<string, string>; stopWhen?: () => boolean } = {},
): Promise<Response> {
  if (parts.streams.size >= parts.maxStreams)
    throw new HttpError(
      'TOO_MANY_STREAMS',
      `This server already holds ${parts.streams.size} event streams (server option maxStreams).`,
      {
        retryAfterMs: 5000,
      },
    );
  const stop = new AbortController();
  const iterator = parts.baton.stream(runId, { tenant, signal: stop.signal, ...(after ? { after } : {}) });
  const first = await iterator.next();
  let buffered: IteratorResult<RunStreamPart> | undefined = first;
  let ended = false;
  const source: FrameSource = {
    async next() {
      if (ended || options.stopWhen?.()) return { done: true, value: undefined };
      const next = buffered ?? (await iterator.next());
      buffered = undefined;
      if (next.done) {
        ended = true;
        return { done: true, value: undefined };
      }
      return { done: false, value: frame(next.value) };
    },
    stop() {
      stop.abort();
      void iterator.return(undefined).catch(() => undefined);
    },
  };
  let closeStream = (): void => undefined;
  let closed = false;
  const channel: SseChannel = {
    send: () => undefined,
    close: () => closeStream(),
    get closed() {
      return closed;
    },
  };
  parts.streams.add(channel);
  const { response, close } = liveSseResponse(
    {
      signal,
      heartbeatMs: parts.heartbeatMs,
      stallMs: parts.stallMs,
      onClose: () => {
        closed = true;
        parts.streams.delete(channel);
      },
      failure: (error) => {
        parts.log(`The live stream of run ${runId} failed`, error);
        return `event: error\ndata: ${JSON.stringify(describeHttpError(error).body)}\n\n`;
      },
    },
    source,
    options.headers,
  );
  closeStream = close;
  return response;
}
