import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { runHarnessesOn } from './support/harness.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

/**
 * The engine semantics scenarios (exactly-once signals, published values, continue-as-new), written
 * once against the harness, run again here with every harness on a PostgreSQL store (a fresh schema
 * each). The files also run on their own, on SQLite.
 */
const unavailable = await postgresUnavailable();
describePostgres('engine semantics on PostgreSQL', unavailable, async () => {
  const database = databaseForSuite();
  let schemas = 0;
  runHarnessesOn(() =>
    PostgresStore.open({ url: database.url, schema: `semantics_${++schemas}`, poolSize: 4 }),
  );
  await import('./exactly-once-signals.test.ts');
  await import('./published-events.test.ts');
  await import('./continue-as-new.test.ts');
});
