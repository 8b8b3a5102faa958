import { BatonError } from '../errors.ts';

/** Routing was asked for with nothing registered to route to. */
export class EmptyRegistryError extends BatonError {
  constructor(args: { task: string }) {
    super(
      'ROUTING_EMPTY_REGISTRY',
      `Cannot route '${abbreviate(args.task)}': no capabilities are registered. Register agents or tools ` +
        `(registry.register(agent)) before routing.`,
    );
  }
}

/** A feature that keeps vectors in the store was given a store without the vectorRecords capability. */
export class VectorRecordsUnavailableError extends BatonError {
  constructor(args: { feature: string; location?: string }) {
    super(
      'ROUTING_NO_VECTOR_RECORDS',
      `${args.feature} keeps its entries in the store, but the store${args.location ? ` at ${args.location}` : ''} ` +
        `does not offer vector records (store.vectorRecords). Use the SQLite or PostgreSQL store, or pass a VectorRecordStore.`,
    );
  }
}

export function abbreviate(text: string, length = 60): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
