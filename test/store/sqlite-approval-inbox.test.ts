import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { approvalInboxConformance } from './approval-inbox-conformance.ts';

approvalInboxConformance('sqlite (:memory:)', async () => SqliteStore.open({ path: ':memory:' }));
