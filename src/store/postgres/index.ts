// The public surface of 'baton/postgres': the scale-out store. Importing it loads `pg`.
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
export {
  postgresMigrations,
  POSTGRES_SCHEMA_VERSION,
  type PostgresMigration,
} from './postgres-migrations.ts';
