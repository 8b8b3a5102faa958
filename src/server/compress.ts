import type { MiddlewareHandler } from 'hono';
import { compress, COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/compress';

/** Bodies smaller than this go as they are (as Hono's compress middleware does). */
const THRESHOLD = 1024;
/** Brotli's quality 5: smaller than gzip and faster than it; 11 (the web default) takes seconds on a big journal. */
const BROTLI_QUALITY = 5;

type BrotliEncoder = () => TransformStream<Uint8Array, Uint8Array>;

/**
 * Compresses answers for clients that accept it: Brotli (`br`) where the runtime has `node:zlib`
 * (Node, Bun, Deno), else gzip or deflate through Hono's compress middleware. Event streams
 * (text/event-stream) are never compressed, so each event reaches the client as it is written.
 */
export async function compressResponses(): Promise<MiddlewareHandler> {
  const brotli = await brotliEncoder();
  const gzipOrDeflate = compress({ threshold: THRESHOLD });
  return async (c, next) => {
    if (!brotli || !acceptsBrotli(c.req.header('accept-encoding'))) return gzipOrDeflate(c, next);
    await next();
    if (!compressible(c.res, c.req.method)) return;
    const vary = c.res.headers.get('vary');
    if (vary !== '*' && !/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary ?? ''))
      c.header('vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    c.res = new Response(c.res.body!.pipeThrough(brotli()), c.res);
    c.res.headers.delete('content-length');
    c.res.headers.set('content-encoding', 'br');
  };
}

function compressible(response: Response, method: string): boolean {
  const type = response.headers.get('content-type');
  const length = response.headers.get('content-length');
  return (
    method !== 'HEAD' &&
    response.body !== null &&
    response.status !== 206 &&
    !response.headers.has('content-encoding') &&
    !(length !== null && Number(length) < THRESHOLD) &&
    type !== null &&
    COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type) &&
    !/(^|,)\s*no-transform\s*(,|$)/i.test(response.headers.get('cache-control') ?? '')
  );
}

/** Whether Accept-Encoding names `br` with a quality above 0. */
export function acceptsBrotli(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [name, ...parameters] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== 'br') return false;
    const quality = parameters.map((parameter) => /^\s*q=([\d.]+)\s*$/i.exec(parameter)?.[1]).find(Boolean);
    return quality === undefined || Number(quality) > 0;
  });
}

/** A Brotli encoder from node:zlib, or undefined on a runtime without it. */
async function brotliEncoder(): Promise<BrotliEncoder | undefined> {
  try {
    const zlib = await import('node:zlib');
    return () => {
      const encoder = zlib.createBrotliCompress({
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY },
      });
      return new TransformStream<Uint8Array, Uint8Array>({
        start(controller) {
          encoder.on('data', (chunk: Buffer) => {
            // A client that went away cancelled the stream: stop encoding for it.
            try {
              controller.enqueue(new Uint8Array(chunk));
            } catch {
              encoder.destroy();
            }
          });
        },
        transform: (chunk) =>
          new Promise<void>((resolve, reject) =>
            encoder.write(chunk, (error) => (error ? reject(error) : resolve())),
          ),
        flush: () =>
          new Promise<void>((resolve, reject) => {
            encoder.once('end', resolve);
            encoder.once('error', reject);
            encoder.end();
          }),
      });
    };
  } catch {
    return undefined;
  }
}
