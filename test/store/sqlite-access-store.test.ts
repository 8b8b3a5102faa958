import { accessStoreConformance } from './access-store-conformance.ts';
import { sqliteFileStores } from './sqlite-file-stores.ts';

const files = sqliteFileStores('baton-access-store-');
accessStoreConformance('sqlite (file)', files.makeStore, files.cleanup);
