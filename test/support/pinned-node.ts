import { fileURLToPath } from 'node:url';

/**
 * The Node to run child processes on: the pinned Node 24 (the one running the tests, when it is 24
 * or later, as it usually is; else the dev dependency in node_modules).
 */
export const NODE =
  Number(process.versions.node.split('.')[0]) >= 24
    ? process.execPath
    : fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
