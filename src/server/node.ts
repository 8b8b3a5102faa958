import { serve as serveNode } from '@hono/node-server';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Asset, AssetSource, BatonServer } from './server.ts';

/** The Node adapter: the only file of the server that knows it runs on Node. */

export interface ServeOptions {
  /** Default 4000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (this machine only). */
  hostname?: string;
}

export interface RunningServer {
  /** `http://127.0.0.1:4000` */
  readonly url: string;
  readonly port: number;
  /** Ends open event streams, stops accepting connections and waits for the server to close. */
  close(): Promise<void>;
}

/**
 * Serves a {@link BatonServer} over HTTP on Node. Resolves once it listens.
 *
 * @example
 * const running = await serve(await createServer(baton, { auth, assets: uiAssets() }), { port: 0 });
 * console.log(`Open ${running.url}`);
 */
export function serve(server: BatonServer, options: ServeOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const http = serveNode(
      { fetch: server.fetch, port: options.port ?? 4000, hostname },
      (info: AddressInfo) => {
        http.off('error', reject);
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done, fail) => {
              server.close();
              http.close((error) => (error ? fail(error) : done()));
              // Idle keep-alive sockets go now; sockets still busy answer 503 with
              // `Connection: close` (see createServer) and are cut after a grace period.
              if ('closeIdleConnections' in http) http.closeIdleConnections();
              const grace = setTimeout(() => {
                if ('closeAllConnections' in http) http.closeAllConnections();
              }, CLOSE_GRACE_MS);
              grace.unref();
            }),
        });
      },
    );
    http.once('error', reject);
  });
}

/** How long `close()` lets busy connections finish before cutting them. */
const CLOSE_GRACE_MS = 2000;

/** The built web UI (ui/dist of this package). */
export const UI_DIST = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The web UI's files from a directory (default: this package's ui/dist). Paths cannot leave the
 * directory; files under assets/ (hashed names) are served as immutable.
 */
export function uiAssets(directory: string = UI_DIST): AssetSource {
  const root = normalize(directory.endsWith(sep) ? directory : directory + sep);
  return {
    async read(path: string): Promise<Asset | undefined> {
      let relative: string;
      try {
        relative = decodeURIComponent(path).replace(/^\/+/, '');
      } catch {
        return undefined;
      }
      if (relative === '') relative = 'index.html';
      const file = normalize(join(root, relative));
      if (!file.startsWith(root) || relative.includes('\0')) return undefined;
      try {
        if (!(await stat(file)).isFile()) return undefined;
        const body = await readFile(file);
        return {
          body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
          type: TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          immutable: relative.startsWith('assets/'),
        };
      } catch {
        return undefined;
      }
    },
  };
}
