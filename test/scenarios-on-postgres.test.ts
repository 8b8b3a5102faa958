import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { runHarnessesOn } from './support/harness.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

/**
 * Engine scenarios, written once against the harness, run again here with every harness on a
 * PostgreSQL store (a fresh schema each) instead of in-memory SQLite: signals, child runs and
 * cancellation, approvals (the inbox query), per-tenant budgets (the shared ledgers), the cache's
 * error bound and capability routing kept in the store (vector records), catchable
 * cancellation and its scopes, children cascaded or abandoned, timeouts, resume in place. The
 * files also run on their own, on SQLite.
 */
const unavailable = await postgresUnavailable();
describePostgres('scenarios on PostgreSQL', unavailable, async () => {
  const database = databaseForSuite();
  let schemas = 0;
  runHarnessesOn(() =>
    PostgresStore.open({ url: database.url, schema: `scenario_${++schemas}`, poolSize: 4 }),
  );
  await import('./signals.test.ts');
  await import('./children-and-cancel.test.ts');
  await import('./approvals.test.ts');
  await import('./budgets.test.ts');
  await import('./routing/cache-serves-within-its-error-bound.test.ts');
  await import('./routing/defaults-route-support-requests.test.ts');
  await import('./cancellation-is-catchable.test.ts');
  await import('./cancellation-scopes.test.ts');
  await import('./children-cascade-or-abandon.test.ts');
  await import('./run-timeout-status.test.ts');
  await import('./resume-in-place.test.ts');
});
