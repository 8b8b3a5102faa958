import { afterEach } from 'vitest';
import { harness, type Harness } from './harness.ts';

export type HarnessOptions = Parameters<typeof harness>[0];

/**
 * Harnesses that live for one test: `start` opens one (as {@link harness} does, with the options
 * `prepare` makes of the test's) and an `afterEach` closes every harness still in `open`. A test that
 * closes one itself takes it out of `open`.
 */
export function harnessesClosedAfterEach(
  prepare: (options: HarnessOptions) => HarnessOptions = (options) => options,
): {
  start: (options: HarnessOptions) => Promise<Harness>;
  open: Harness[];
} {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  return {
    open,
    async start(options) {
      const h = await harness(prepare(options));
      open.push(h);
      return h;
    },
  };
}
