import type { JournalEvent } from '../../src/journal/events.ts';

/** The events of one type, typed as such. */
export const eventsOfType = <T extends JournalEvent['type']>(
  events: readonly JournalEvent[],
  type: T,
): JournalEvent<T>[] => events.filter((event): event is JournalEvent<T> => event.type === type);

/** The type of each event, in journal order. */
export const eventTypes = (events: readonly JournalEvent[]): string[] => events.map((event) => event.type);

/** The events of these types, in journal order. */
export function ofType(history: readonly JournalEvent[], ...types: string[]): JournalEvent[] {
  return history.filter((event) => types.includes(event.type));
}
