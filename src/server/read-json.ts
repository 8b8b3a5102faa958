import { z } from 'zod';
import { HttpError } from './http-error.ts';
import { describeZodError } from './zod-sentences.ts';

/**
 * Reads a request's JSON body, at most `limit` bytes: a declared Content-Length over the limit is
 * refused before anything is read, a body that grows past it is cut off (BODY_TOO_LARGE, 413); a
 * body that is not JSON is MALFORMED_JSON (400); one that is JSON of the wrong shape is
 * INVALID_REQUEST (400), in sentences naming each field, what it must be and what was sent. An
 * empty body reads as `{}`.
 */
export async function readJson<T>(request: Request, schema: z.ZodType<T>, limit: number): Promise<T> {
  const type = request.headers.get('content-type');
  if (type !== null && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json, not ${type}.`);
  }
  const text = await readText(request, limit);
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(
        'MALFORMED_JSON',
        `The request body is not valid JSON: ${(error as Error).message}.`,
      );
    }
  }
  return checked(schema, value, 'the request body');
}

/** Checks query parameters (or any plain value) against a schema: INVALID_REQUEST naming the field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where = 'the query'): T {
  return checked(schema, value, where);
}

function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const accepted = schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
  throw new HttpError(
    'INVALID_REQUEST',
    describeZodError(parsed.error, { where, ...(accepted ? { accepted } : {}) }),
  );
}

async function readText(request: Request, limit: number): Promise<string> {
  const tooLarge = (): HttpError =>
    new HttpError(
      'BODY_TOO_LARGE',
      `The request body is over the limit of ${limit} bytes (server option maxBodyBytes).`,
      {
        details: { limit },
      },
    );
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}
