import { HttpError } from './http-error.ts';
import { parseWith } from './read-json.ts';
import { publicRun, runSearchOf } from './runs-routes.ts';
import { searchRuns } from './run-search.ts';
import { ListRunsQuery, StreamQuery } from './schemas.ts';
import type { ServerApp, ServerParts } from './server-parts.ts';
import { sseResponse, type SseChannel } from './sse.ts';

/**
 * Server-sent events: a run's new journal events as they are written, and the live runs list.
 * Each stream ends cleanly when the client goes away: its feed subscription and timers go with it.
 */
export function streamRoutes(app: ServerApp, parts: ServerParts): void {
  const { baton, gate, feed } = parts;

  const admit = (): void => {
    if (parts.streams.size >= parts.maxStreams) {
      throw new HttpError(
        'TOO_MANY_STREAMS',
        `This server already holds ${parts.streams.size} event streams (server option maxStreams).`,
        {
          retryAfterMs: 5000,
        },
      );
    }
  };
  const track = (channel: SseChannel): void => {
    parts.streams.add(channel);
  };

  app.get('/api/runs/stream', async (c) => {
    const caller = c.get('caller');
    const search = runSearchOf(parseWith(ListRunsQuery, c.req.query()), caller.tenant);
    admit();
    let channel: SseChannel | undefined;
    return sseResponse(
      {
        signal: c.req.raw.signal,
        heartbeatMs: parts.heartbeatMs,
        onClose: () => channel && parts.streams.delete(channel),
      },
      (opened) => {
        channel = opened;
        track(opened);
        let timer: ReturnType<typeof setTimeout> | undefined;
        // The first page is always sent, empty or not: a client waits for it to stop "loading".
        let last: string | undefined;
        const tick = async (): Promise<void> => {
          timer = undefined;
          try {
            const page = search
              ? await searchRuns(baton, {
                  ...search,
                  visible: (run) => gate.allowsRun(caller, 'ReadRun', run),
                })
              : { runs: [] };
            const fingerprint = page.runs
              .map((run) => `${run.runId}:${run.status}:${run.updatedAt}:${run.lastSeq}`)
              .join('|');
            if (fingerprint !== last) {
              last = fingerprint;
              opened.send({
                event: 'runs',
                data: {
                  runs: await parts.waits.annotate(page.runs.map(publicRun)),
                  ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
                },
              });
            }
          } catch (error) {
            parts.log('The live runs list failed to read the store', error);
            opened.send({
              event: 'error',
              data: { error: { code: 'STREAM_FAILED', message: 'Reading the runs failed; reconnect.' } },
            });
            opened.close();
            return;
          }
          if (!opened.closed) timer = setTimeout(() => void tick(), Math.max(parts.pollMs * 4, 250));
        };
        void tick();
        return () => clearTimeout(timer);
      },
    );
  });

  app.get('/api/runs/:runId/stream', async (c) => {
    const caller = c.get('caller');
    const query = parseWith(StreamQuery, c.req.query());
    const run = await baton.getRun(c.req.param('runId'), { tenant: caller.tenant });
    gate.checkRun(caller, 'ReadRun', run);
    const lastEventId = c.req.header('last-event-id');
    // A reconnecting EventSource sends Last-Event-ID and repeats the address it first opened:
    // the id it last saw wins over the `after` it started from.
    const resumeFrom = lastEventId && /^\d{1,12}$/.test(lastEventId) ? lastEventId : undefined;
    const after = Number(resumeFrom ?? query.after ?? 0);
    admit();
    let channel: SseChannel | undefined;
    return sseResponse(
      {
        signal: c.req.raw.signal,
        heartbeatMs: parts.heartbeatMs,
        onClose: () => channel && parts.streams.delete(channel),
      },
      (opened) => {
        channel = opened;
        track(opened);
        return feed.subscribe(
          run,
          after,
          (update) => {
            for (const event of update.events) opened.send({ event: 'event', id: event.seq, data: event });
            opened.send({ event: 'run', data: publicRun(update.run) });
            if (update.finished) {
              opened.send({ event: 'end', data: { status: update.run.status, lastSeq: update.run.lastSeq } });
              opened.close();
            }
          },
          (error) => {
            parts.log(`The event stream of run ${run.runId} failed to read the store`, error);
            opened.send({
              event: 'error',
              data: {
                error: {
                  code: 'STREAM_FAILED',
                  message: 'Reading the journal failed; reconnect with Last-Event-ID.',
                },
              },
            });
            opened.close();
          },
        );
      },
    );
  });
}
