// This repository's own config is the demo's (examples/demo/baton.config.ts): `npm run baton -- …`
// from the repository's root works on the runs `npm run demo` made. Your project has its own.
export { default } from './examples/demo/baton.config.ts';
