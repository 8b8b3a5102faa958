import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalescingSocket } from '../../src/store/postgres/coalescing-socket.ts';

describe('coalescingSocket', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('holds what one turn of the event loop writes after connecting, and sends it together', async () => {
    const received: string[] = [];
    let whole = '';
    const done = new Promise<void>((resolve) => {
      server = createServer((connection) => {
        connection.on('data', (chunk: Buffer) => {
          received.push(chunk.toString('utf8'));
          whole += chunk.toString('utf8');
          if (whole === 'BEGIN;INSERT;COMMIT;') resolve();
        });
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const socket = coalescingSocket();
    socket.connect((server!.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

    socket.write('BEGIN;');
    expect(socket.writableCorked).toBe(1);
    socket.write('INSERT;');
    socket.write('COMMIT;');
    expect(socket.writableLength).toBe('BEGIN;INSERT;COMMIT;'.length);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.writableCorked).toBe(0);
    await done;
    expect(received).toEqual(['BEGIN;INSERT;COMMIT;']);
    socket.destroy();
  });
});
