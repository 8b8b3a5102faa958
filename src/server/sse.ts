/** One server-sent event. `data` is sent as JSON. */
export interface ServerSentEvent {
  event?: string;
  id?: string | number;
  data: unknown;
}

export interface SseChannel {
  send(event: ServerSentEvent): void;
  /** Ends the stream from the server's side. */
  close(): void;
  readonly closed: boolean;
}

export interface SseOptions {
  /** Aborted when the client goes away (the request's signal). */
  signal: AbortSignal;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Called once when the stream ends, whoever ended it. */
  onClose?: () => void;
}

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response. `start` is called with the channel once the stream is open and
 * returns its cleanup, which runs exactly once when the stream ends: the client disconnected (the
 * request aborted, or the body was cancelled), the server closed it, or writing failed. The
 * heartbeat timer is cleared at the same moment, so a closed stream holds no timer or listener.
 */
export function sseResponse(
  options: SseOptions,
  start: (channel: SseChannel) => (() => void) | void,
): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let cleanup: (() => void) | void;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const write = (text: string): void => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      finish();
    }
  };
  const finish = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    options.signal.removeEventListener('abort', finish);
    try {
      cleanup?.();
    } finally {
      try {
        controller.close();
      } catch {
        // Already closed or cancelled by the client.
      }
      options.onClose?.();
    }
  };
  const channel: SseChannel = {
    send(event) {
      let text = '';
      if (event.event !== undefined) text += `event: ${event.event}\n`;
      if (event.id !== undefined) text += `id: ${event.id}\n`;
      for (const line of JSON.stringify(event.data ?? null).split('\n')) text += `data: ${line}\n`;
      write(`${text}\n`);
    },
    close: () => finish(),
    get closed() {
      return closed;
    },
  };

  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      if (options.signal.aborted) {
        finish();
        return;
      }
      options.signal.addEventListener('abort', finish, { once: true });
      heartbeat = setInterval(() => write(': keep-alive\n\n'), options.heartbeatMs);
      write(': open\n\n');
      try {
        cleanup = start(channel);
      } catch (error) {
        finish();
        throw error;
      }
      if (closed) cleanup?.();
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
}
