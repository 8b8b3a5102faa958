import { Baton } from 'baton';
import config from './baton.config.ts';
import { welcome } from './workflows.ts';

const baton = await Baton.open({ store: config.store, workflows: config.workflows });
try {
  const run = await baton.start(welcome, { customer: 'Ada' }, { as: 'user:ada' });
  console.log(await run.result());
  console.log(`Run ${run.runId} is in the journal. Look at it: npx baton show ${run.runId}`);
} finally {
  await baton.close();
}
