import type { Explanation, ExplanationNode, TokenCount } from './explanation.ts';
import { brief, clip } from './message-text.ts';

export interface FormatExplanationOptions {
  /** Columns every line fits in. Default 100. */
  width?: number;
  /** Show what each turn was asked in full (wrapped) instead of one line. */
  expand?: boolean;
  /** Styles text (the CLI's colours); default: none. */
  style?: (style: 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan', text: string) => string;
}

/**
 * The explanation as text, top to bottom, in a tree drawn with box glyphs: a header for the run,
 * then each node with its seqs, what it was asked, why, what it decided and what happened, cost
 * and time. Every line fits `width` columns (long values are cut; with `expand`, asked is wrapped).
 */
export function formatExplanation(explanation: Explanation, options: FormatExplanationOptions = {}): string {
  const out = new TextLines(options);
  writeRun(out, explanation);
  if (explanation.nodes.length === 0) out.line('', '(no ops)');
  else {
    out.lines.push('│');
    writeNodes(out, explanation.nodes, '', undefined);
  }
  return `${out.lines.join('\n')}\n`;
}

type Style = NonNullable<FormatExplanationOptions['style']>;

/** The lines written so far, each fitting `width` columns. */
class TextLines {
  readonly lines: string[] = [];
  readonly width: number;
  readonly style: Style;
  readonly expand: boolean;

  constructor(options: FormatExplanationOptions) {
    this.width = Math.max(40, options.width ?? 100);
    this.style = options.style ?? ((_: string, text: string) => text);
    this.expand = options.expand ?? false;
  }

  /** `text` after `prefix`, cut to fit. */
  line(prefix: string, text: string, styled?: (text: string) => string): void {
    const room = this.width - prefix.length;
    const cut = clip(text, room);
    this.lines.push(`${prefix}${styled ? styled(cut) : cut}`);
  }

  /** `label` then `text`, wrapped at word boundaries under the label, on at most `maxLines` lines (the last cut). */
  wrap(
    prefix: string,
    label: string,
    text: string,
    maxLines = Infinity,
    styled?: (text: string) => string,
  ): void {
    const room = Math.max(10, this.width - prefix.length - label.length);
    const out = wrapWords(text, room);
    if (out.length > maxLines) {
      out.length = maxLines;
      out[maxLines - 1] = `${out[maxLines - 1]!.slice(0, room - 1)}…`;
    }
    out.forEach((piece, index) => {
      const text = `${index === 0 ? label : ' '.repeat(label.length)}${piece}`;
      this.lines.push(`${prefix}${styled ? styled(text) : text}`);
    });
  }
}

/** `text`'s words in lines of at most `room` columns (a longer word is cut across lines). */
function wrapWords(text: string, room: number): string[] {
  const words = text
    .replace(/\s+/g, ' ')
    .trim()
    .split(' ')
    .filter((word) => word !== '');
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    if (current !== '' && current.length + 1 + word.length > room) {
      out.push(current);
      current = '';
    }
    let rest = word;
    while (rest.length > room) {
      if (current !== '') {
        out.push(current);
        current = '';
      }
      out.push(rest.slice(0, room));
      rest = rest.slice(room);
    }
    current = current === '' ? rest : `${current} ${rest}`;
  }
  if (current !== '' || out.length === 0) out.push(current);
  return out;
}

/** The run's header: totals, who started it with what, its fork lineage, its result or error, the `at` point. */
function writeRun(out: TextLines, e: Explanation): void {
  const { style, width } = out;
  out.line(
    '',
    `run ${e.runId} · ${e.workflow} · ${e.status} · ${duration(e.durationMs)} · ${money(e.costUsd)} · ${tokens(e.usage)} · ${e.events} events`,
    (text) => style('bold', text),
  );
  out.line(
    '  ',
    `started ${e.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} by ${e.principal} (tenant ${e.tenant})`,
  );
  out.line('  ', `input: ${brief(e.input, width)}`);
  if (e.fork) {
    const overrides = e.fork.overrides
      ? ` · overrides: ${Object.entries(e.fork.overrides)
          .map(([key, value]) => `${key}=${brief(value, 40)}`)
          .join(', ')}`
      : '';
    out.line(
      '  ',
      `forked from ${e.fork.from.runId} at seq ${e.fork.from.seq} (events 1–${e.fork.copied} copied)${overrides}`,
    );
  }
  for (const fork of e.forks) out.line('  ', `forked to ${fork.runId} at seq ${fork.seq} by ${fork.by}`);
  if (e.result !== undefined)
    out.wrap('  ', 'result: ', brief(e.result, width * 3), 3, (text) => style('green', text));
  if (e.error)
    out.wrap('  ', 'error: ', `${e.error.name}: ${e.error.message}`, 4, (text) => style('red', text));
  if (e.at) {
    out.line(
      '  ',
      `from seq ${e.at.seq} (${e.at.type}), inside ${e.at.path.join(' › ') || 'the run'}`,
      (text) => style('cyan', text),
    );
    out.line(
      '  ',
      `before it: ${e.at.before.events} events, ${e.at.before.turns} model call(s), ${money(e.at.before.costUsd)}`,
      (text) => style('dim', text),
    );
  }
}

/** The tree of nodes, drawn with box glyphs under `indent`. */
function writeNodes(
  out: TextLines,
  nodes: readonly ExplanationNode[],
  indent: string,
  parent: ExplanationNode | undefined,
): void {
  nodes.forEach((node, index) => {
    const lastChild = index === nodes.length - 1;
    const branch = `${indent}${lastChild ? '└─ ' : '├─ '}`;
    const body = `${indent}${lastChild ? '   ' : '│  '}${node.children.length > 0 ? '│ ' : '  '}`;
    writeNodeHeader(out, node, branch);
    if (node.identity.actor !== parent?.identity.actor) {
      const chain = node.identity.onBehalfOf.length ? ` for ${node.identity.onBehalfOf.join(' for ')}` : '';
      out.line(body, `as ${node.identity.actor}${chain}`, (text) => out.style('dim', text));
    }
    writeFacts(out, node, parent, body);
    writeNodeStory(out, node, body);
    writeNodes(out, node.children, `${indent}${lastChild ? '   ' : '│  '}`, node);
  });
}

/** A node's header line: seqs and title, status, tokens, cost and time. */
function writeNodeHeader(out: TextLines, node: ExplanationNode, branch: string): void {
  const header = [
    `${seqRange(node)} ${node.title}`,
    node.status === 'ok' ? '' : node.status,
    node.copied ? 'copied' : '',
    node.usage ? tokens(node.usage) : '',
    node.costUsd ? money(node.costUsd) : '',
    node.durationMs === undefined ? '' : duration(node.durationMs),
  ].filter((part) => part !== '');
  const colour =
    node.status === 'failed' || node.status === 'denied'
      ? 'red'
      : node.status === 'waiting' || node.status === 'running'
        ? 'yellow'
        : 'bold';
  out.line(branch, header.join(' · '), (text) => out.style(colour, text));
}

/** A node's facts, one a line. */
function writeFacts(
  out: TextLines,
  node: ExplanationNode,
  parent: ExplanationNode | undefined,
  body: string,
): void {
  for (const [key, value] of Object.entries(node.facts ?? {})) {
    // Latency is in the header, arguments in `decided`; a turn's model is its agent's unless it says otherwise.
    if (
      key === 'latencyMs' ||
      key === 'callId' ||
      key === 'args' ||
      (key === 'model' && parent?.facts?.model === value)
    )
      continue;
    const shown =
      typeof value === 'string'
        ? value
        : Array.isArray(value) && value.every((entry) => typeof entry === 'string')
          ? value.join(', ')
          : brief(value, out.width);
    out.line(body, `${key}: ${shown}`, (text) => out.style('dim', text));
  }
}

/** What a node was asked, what it decided, why, and what happened. */
function writeNodeStory(out: TextLines, node: ExplanationNode, body: string): void {
  const { style } = out;
  if (node.asked) {
    if (out.expand && node.asked.messages?.length) {
      for (const message of node.asked.messages)
        out.wrap(body, 'asked: ', typeof message === 'string' ? message : JSON.stringify(message));
    } else {
      out.line(body, `asked: ${node.asked.summary}`);
    }
  }
  if (node.decided) out.wrap(body, 'decided: ', node.decided.summary, 3, (text) => style('bold', text));
  for (const reason of node.why ?? [])
    out.wrap(body, `why (${reason.kind}): `, reason.summary, 4, (text) => style('cyan', text));
  if (node.outcome) {
    if (node.outcome.summary.startsWith('→ ')) out.wrap(body, '→ ', node.outcome.summary.slice(2), 3);
    else out.wrap(body, 'outcome: ', node.outcome.summary, 3);
  }
  if (node.hidden) out.line(body, `(${node.hidden} more below; raise --depth)`, (text) => style('dim', text));
}

function seqRange(node: ExplanationNode): string {
  const first = node.seqs[0];
  const last = node.seqs[node.seqs.length - 1];
  return first === last ? `[${first}]` : `[${first}–${last}]`;
}

function money(value: number): string {
  return value === 0
    ? '$0'
    : value < 0.01
      ? `$${value.toFixed(6).replace(/0+$/, '')}`
      : `$${value.toFixed(4)}`;
}

function tokens(usage: TokenCount): string {
  return `${usage.inputTokens}→${usage.outputTokens} tokens`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000)
    return `${Math.floor(ms / 60_000)}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h ${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}
