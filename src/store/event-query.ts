import type { JournalEventType } from '../journal/events.ts';

/**
 * A filter over journal events across runs, for audit (`Store.queryEvents`, optional). Every
 * field narrows; strings in `actor` and `payload` may use `*` for any run of characters.
 */
export interface EventQuery {
  /** Only events of runs in this tenant. */
  tenant?: string;
  runId?: string;
  types?: readonly JournalEventType[];
  /** The event's actor (`agent:writer`, `agent:*`). */
  actor?: string;
  /** An identity that acted or was acted for: the actor, or any member of `onBehalfOf`. */
  identity?: string;
  /** Events written at or after this time (epoch ms). */
  since?: number;
  /** Events written before this time (epoch ms). */
  until?: number;
  /** Top-level payload fields that must equal these values (`{ decision: 'deny', action: 'InvokeTool' }`). */
  payload?: Readonly<Record<string, string | number | boolean>>;
  /** Default 1000. */
  limit?: number;
}

/** Payload field names a query may name (they become JSON paths). */
export const EVENT_QUERY_FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
