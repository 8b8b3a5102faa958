// The layers of docs/architecture.md, checked: each layer imports only the layers below it, and no
// module imports itself back through a cycle. `npm run check:deps` (in `npm run check` and CI).
//
// Bottom first. A layer may import every layer listed before it; layers on one rank are peers and
// import none of each other. src/errors.ts, src/edit-distance.ts, src/lazy-module.ts, src/argument-checks.ts,
// src/defined-fields.ts and src/rounding.ts are used by all.
const LAYERS = [
  {
    name: 'shared',
    rank: 0,
    path: '^src/(errors|edit-distance|lazy-module|argument-checks|defined-fields|rounding)\\.ts$',
  },
  { name: 'journal', rank: 1, path: '^src/journal/' },
  { name: 'store', rank: 2, path: '^src/store/' },
  { name: 'engine', rank: 3, path: '^src/engine/' },
  // The agentic features, in their own order: what they share sits below them.
  { name: 'access', rank: 4, path: '^src/access/' },
  { name: 'routing', rank: 4, path: '^src/routing/' },
  { name: 'resources', rank: 4, path: '^src/resources/' },
  { name: 'agents', rank: 5, path: '^src/agents/' },
  // Approvals (asking, assigning approvers, gates, the desk that decides): the guard's floor, just
  // under the guard, whose budgets, loops and ctx.approval ask through them.
  { name: 'approvals', rank: 5.5, path: '^src/approvals/' },
  { name: 'guard', rank: 6, path: '^src/guard/' },
  { name: 'patterns', rank: 6, path: '^src/patterns/' },
  { name: 'planning', rank: 7, path: '^src/planning/' },
  { name: 'explain', rank: 8, path: '^src/explain/' },
  // OpenTelemetry spans and metrics from the journal: beside explain, reading what all of them journal.
  { name: 'telemetry', rank: 8, path: '^src/telemetry/' },
  // The facade: Baton, the one list of context layers, the public entry points.
  {
    name: 'facade',
    rank: 9,
    path: '^src/((?!(errors|edit-distance|lazy-module|argument-checks|defined-fields|rounding|config|index)\\.ts$)[^/]+\\.ts$|testing/)',
  },
  // The doors: the HTTP server; baton.config.ts (which configures the server too); the CLI.
  { name: 'server', rank: 10, path: '^src/server/' },
  { name: 'config', rank: 11, path: '^src/config\\.ts$' },
  { name: 'cli', rank: 12, path: '^src/cli/' },
  // The export lists: 'baton' (src/index.ts) and each subpath's, the index.ts of its folder. They
  // may export from any layer; nothing in src imports them.
  { name: 'entries', rank: 13, path: '^src/(index|[a-z]+/index|store/postgres/index)\\.ts$' },
];

const layerRules = LAYERS.flatMap((layer) => {
  const notBelow = LAYERS.filter((other) => other !== layer && other.rank >= layer.rank);
  if (notBelow.length === 0) return [];
  return [
    {
      name: `${layer.name}-imports-only-below`,
      comment: `${layer.name} imports only the layers below it (docs/architecture.md).`,
      severity: 'error',
      from: {
        path: layer.path,
        pathNot: layer.name === 'entries' ? '\\.test\\.ts$' : ['\\.test\\.ts$', '(^|/)index\\.ts$'],
      },
      to: { path: notBelow.map((other) => other.path), pathNot: layer.path },
    },
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles: a module never reaches itself again through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '^ui/dist'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { conditionNames: ['baton-source', 'import', 'node', 'default'] },
  },
};
