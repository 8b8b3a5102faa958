import type { StatementSync } from 'node:sqlite';
import { JournalCorruptError } from '../../errors.ts';
import type { JournalEvent } from '../../journal/events.ts';

/** The events columns, in the order {@link readEventRows} reads them. */
export const EVENT_COLUMNS = 'run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash';

/**
 * Reads a run's events from a statement that selects {@link EVENT_COLUMNS} (with any table alias),
 * as arrays rather than one object per row, and decodes each once: loading a long history for a
 * replay is then mostly the JSON of the payloads. A run's events nearly all act for the same chain
 * of principals, so its text is parsed once and each event gets its own copy.
 */
export function readEventRows(
  statement: StatementSync,
  params: readonly (string | number)[],
): JournalEvent[] {
  statement.setReturnArrays(true);
  const rows = statement.all(...params) as unknown as unknown[][];
  const events = new Array<JournalEvent>(rows.length);
  let chainText: string | undefined;
  let chain: string[] = [];
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    const onBehalfOfText = row[5] as string;
    if (onBehalfOfText !== chainText) {
      chain = parseColumn(row, 'on_behalf_of', onBehalfOfText) as string[];
      chainText = onBehalfOfText;
    }
    events[index] = {
      runId: row[0] as string,
      seq: Number(row[1]),
      type: row[2] as JournalEvent['type'],
      at: row[3] as string,
      actor: row[4] as string,
      onBehalfOf: chain.slice(),
      payload: parseColumn(row, 'payload', row[6] as string) as JournalEvent['payload'],
      prevHash: row[7] as string,
      hash: row[8] as string,
    } as JournalEvent;
  }
  return events;
}

function parseColumn(row: readonly unknown[], field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new JournalCorruptError({ runId: row[0] as string, seq: Number(row[1]), field, cause });
  }
}
