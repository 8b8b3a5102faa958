import pg from 'pg';
import { quoteIdentifier } from './postgres-migrate.ts';

/**
 * One `LISTEN` connection per channel, shared by every subscriber in the process. The store sends
 * `NOTIFY` in the transactions that make a run runnable (started, signalled, cancelled, released,
 * a child finished). When the connection drops it reconnects with backoff and wakes every
 * subscriber, since notifications sent meanwhile are lost; workers poll as a fallback.
 */
export class WakeChannel {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #listeners = new Set<(payload?: string) => void>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = 100;
  #closed = false;

  constructor(config: pg.ClientConfig, channel: string, log: (message: string, error?: unknown) => void) {
    this.#config = config;
    this.#channel = channel;
    this.#log = log;
  }

  /** Resolves once the first attempt to listen has finished (listening, or retrying in the background). */
  async subscribe(onWake: (payload?: string) => void): Promise<() => Promise<void>> {
    this.#listeners.add(onWake);
    if (!this.#client && !this.#retryTimer) await (this.#connecting ??= this.#connect());
    return async () => {
      this.#listeners.delete(onWake);
      if (this.#listeners.size === 0) await this.#disconnect();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#disconnect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#config, keepAlive: true });
    client.on('notification', (message) => this.#wakeAll(message.payload || undefined));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      this.#connecting = undefined;
      this.#log(`could not listen for wake-ups (${(error as Error).message}); polling until it works`);
      this.#scheduleRetry();
      return;
    }
    this.#connecting = undefined;
    if (this.#closed || this.#listeners.size === 0) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryDelay = 100;
  }

  #lost(client: pg.Client, error: Error | undefined): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.removeAllListeners();
    client.on('error', () => {});
    void client.end().catch(() => {});
    if (this.#closed || this.#listeners.size === 0) return;
    this.#log(`the wake-up connection was lost${error ? ` (${error.message})` : ''}; reconnecting`);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer || this.#listeners.size === 0) return;
    const delay = this.#retryDelay * (0.75 + Math.random() * 0.5);
    this.#retryDelay = Math.min(this.#retryDelay * 2, 5000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#client) return;
      void (this.#connecting ??= this.#connect()).then(() => {
        // Whatever was notified while nobody listened is lost: let every worker look now.
        if (this.#client) this.#wakeAll();
      });
    }, delay);
    this.#retryTimer.unref();
  }

  /** Wakes every listener: with the notification's payload, or none after a lost connection. */
  #wakeAll(payload?: string): void {
    for (const listener of this.#listeners) listener(payload);
  }

  async #disconnect(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => {});
    await client.end().catch(() => {});
  }
}
