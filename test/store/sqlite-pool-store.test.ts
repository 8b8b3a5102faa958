import { tempStore } from '../support/harness.ts';
import { poolStoreConformance } from './pool-store-conformance.ts';

poolStoreConformance('sqlite', () => tempStore());
