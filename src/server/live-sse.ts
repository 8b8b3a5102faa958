export interface LiveSseOptions {
  /** Aborted when the client goes away (the request's signal). */
  signal: AbortSignal;
  /** A comment line this often while there is nothing to send. */
  heartbeatMs: number;
  /** A client that has not taken a frame for this long is disconnected (it never reads). */
  stallMs: number;
  /** Called once when the stream ends, whoever ended it. */
  onClose?: () => void;
  /** The frame sent when reading the source failed, before the stream closes. */
  failure: (error: unknown) => string;
}

/** What a live response reads from: the next frame's text, or done. */
export interface FrameSource {
  next(): Promise<IteratorResult<string>>;
  /** Stops the source (its reads and timers); called once when the stream ends. */
  stop(): void;
}

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response that reads its source only as fast as the client takes frames
 * (pull-based, one frame buffered): a slow client slows nobody else, and one that stops reading
 * holds one frame until `stallMs` passes, then is disconnected. Heartbeat comments go out while the
 * source has nothing. Ends, stopping the source exactly once, when the source is done, the client
 * goes away (abort or cancel) or reading fails (a `failure` frame is sent first).
 */
export function liveSseResponse(
  options: LiveSseOptions,
  source: FrameSource,
  headers: Record<string, string> = {},
): { response: Response; close: () => void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let pending: Promise<IteratorResult<string>> | undefined;
  let stall: ReturnType<typeof setTimeout> | undefined;

  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(stall);
    options.signal.removeEventListener('abort', finish);
    try {
      source.stop();
    } finally {
      try {
        controller.close();
      } catch {
        // Already closed or cancelled by the client.
      }
      options.onClose?.();
    }
  };
  const send = (text: string): void => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      finish();
      return;
    }
    clearTimeout(stall);
    stall = setTimeout(finish, options.stallMs);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        if (options.signal.aborted) return finish();
        options.signal.addEventListener('abort', finish, { once: true });
        send(': open\n\n');
      },
      async pull() {
        clearTimeout(stall);
        if (closed) return;
        pending ??= source.next();
        let heartbeat: ReturnType<typeof setTimeout> | undefined;
        const tick = new Promise<'tick'>(
          (resolve) => (heartbeat = setTimeout(() => resolve('tick'), options.heartbeatMs)),
        );
        try {
          const next = await Promise.race([pending, tick]);
          if (next === 'tick') return send(': keep-alive\n\n');
          pending = undefined;
          if (next.done) return finish();
          send(next.value);
        } catch (error) {
          pending = undefined;
          send(options.failure(error));
          finish();
        } finally {
          clearTimeout(heartbeat);
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 1 },
  );
  const response = new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    },
  });
  return { response, close: finish };
}
