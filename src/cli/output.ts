/** Where the CLI writes: process.stdout / process.stderr, or a buffer in tests. */
export interface Writer {
  write(text: string): unknown;
}

export interface OutputOptions {
  stdout: Writer;
  stderr: Writer;
  /** Live status lines (spinner, elapsed time) are drawn only on a terminal. */
  isTTY: boolean;
  /** ANSI colours; on a terminal unless NO_COLOR is set. */
  color: boolean;
  /** The terminal's width, which tables fit in. Default 100. */
  columns?: number;
}

const ANSI = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof ANSI;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Everything a command prints goes through here: lines and tables for people, JSON for scripts,
 * errors to stderr, and one live status line (on a terminal only) that regular lines print above.
 */
export class Output {
  readonly isTTY: boolean;
  /** The width tables fit in (the terminal's, COLUMNS, or 100). */
  readonly columns: number;
  readonly #stdout: Writer;
  readonly #stderr: Writer;
  readonly #color: boolean;
  #status = '';
  /** A line begun by write() and not ended yet: the status line stays away until it is. */
  #partial = false;

  constructor(options: OutputOptions) {
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.isTTY = options.isTTY;
    this.columns = options.columns ?? 100;
    this.#color = options.color;
  }

  /** Wraps text in a colour or weight when colours are on. */
  style(style: Style, text: string): string {
    if (!this.#color || text === '') return text;
    const [open, close] = ANSI[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  line(text = ''): void {
    this.#clearStatus();
    this.#stdout.write(`${text}\n`);
    this.#partial = false;
    this.#drawStatus();
  }

  /** Writes text without ending the line (a model's tokens as they come); line() ends it. */
  write(text: string): void {
    if (text === '') return;
    this.#clearStatus();
    this.#stdout.write(text);
    this.#partial = !text.endsWith('\n');
    if (!this.#partial) this.#drawStatus();
  }

  error(text: string): void {
    this.#clearStatus();
    this.#stderr.write(`${text}\n`);
    this.#drawStatus();
  }

  json(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON document per line (for streams: worker activity). */
  jsonLine(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value)}\n`);
  }

  /**
   * Prints rows under a header, columns padded to their widest cell. The last column is not padded,
   * so a long summary does not drag trailing spaces; with `fit`, it is cut to fit {@link columns}
   * (never below 24 characters).
   */
  table<Row extends Record<string, string>>(
    columns: readonly { key: keyof Row & string; title: string; align?: 'right' }[],
    rows: readonly Row[],
    options: { fit?: boolean } = {},
  ): void {
    const widths = columns.map((column) =>
      Math.max(column.title.length, ...rows.map((row) => visibleLength(row[column.key] ?? ''))),
    );
    const render = (cells: readonly string[]): string =>
      cells
        .map((cell, index) => {
          if (index === cells.length - 1) return cell;
          const pad = ' '.repeat(Math.max(0, widths[index]! - visibleLength(cell)));
          return columns[index]!.align === 'right' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd();
    const before = widths.slice(0, -1).reduce((sum, width) => sum + width + 2, 0);
    const room = Math.max(24, this.columns - before);
    const last = (cell: string): string => (options.fit ? truncateVisible(cell, room) : cell);
    this.line(this.style('dim', render(columns.map((column) => column.title))));
    for (const row of rows)
      this.line(
        render(
          columns.map((column, index) =>
            (index === columns.length - 1 ? last : (cell: string) => cell)(row[column.key] ?? ''),
          ),
        ),
      );
  }

  /** Sets the live status line (a terminal only; elsewhere this does nothing). */
  status(text: string): void {
    if (!this.isTTY) return;
    this.#clearStatus();
    this.#status = text;
    this.#drawStatus();
  }

  clearStatus(): void {
    this.#clearStatus();
    this.#status = '';
  }

  /** Redraws `render()` with a spinner every `intervalMs` until stopped. Nothing happens off a terminal. */
  spinner(render: () => string, intervalMs = 100): { stop(): void } {
    if (!this.isTTY) return { stop() {} };
    let frame = 0;
    const draw = (): void =>
      this.status(`${this.style('cyan', SPINNER[frame++ % SPINNER.length]!)} ${render()}`);
    draw();
    const timer = setInterval(draw, intervalMs);
    timer.unref();
    return {
      stop: () => {
        clearInterval(timer);
        this.clearStatus();
      },
    };
  }

  #clearStatus(): void {
    if (this.#status !== '' && !this.#partial) this.#stdout.write('\r\u001b[2K');
  }

  #drawStatus(): void {
    if (this.#status !== '' && !this.#partial) this.#stdout.write(this.#status);
  }
}

/** The length of text as it shows on screen (without ANSI codes). */
export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Cuts text to `max` characters with an ellipsis, on one line. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/** Compact JSON of a value, cut to `max` characters. */
export function brief(value: unknown, max = 60): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? typeof value; // functions and symbols have no JSON
  return truncate(text, max);
}

/** `2026-11-22 06:19:17` (UTC) for an epoch-ms time or an ISO string. */
export function formatDateTime(time: number | string): string {
  const iso = new Date(time).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `06:19:17.123` (UTC). */
export function formatTimeOfDay(time: number | string): string {
  return new Date(time).toISOString().slice(11, 23);
}

/** `850ms`, `4.2s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(abs / 1000);
  const sign = ms < 0 ? '-' : '';
  if (seconds < 3600) return `${sign}${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400)
    return `${sign}${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${sign}${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`;
}

/** `3m ago` / `in 2h 10m` relative to now. */
export function formatRelative(time: number, now: number): string {
  const delta = time - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** The first 12 hex digits of a hash: enough to compare by eye. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

/** Cuts text (which may hold ANSI styles) to `max` visible characters, ending in '…'. */
function truncateVisible(text: string, max: number): string {
  if (visibleLength(text) <= max) return text;
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return `${plain.slice(0, max - 1)}…`;
}
