import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'ui/dist/', 'test-results/', 'bin/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Small single-purpose functions: a loop that grows is split by phase (docs/decisions/0019).
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    // Test code is exempt: a suite is one describe() holding its cases (the Store conformance suite
    // ships in src/testing so a third-party store can run it).
    ignores: ['src/**/*.test.ts', 'src/testing/store-conformance.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Still over 120 lines, each in a file whose layer is being reworked in parallel (the run model
    // in explain/ and server/, the engine's hot path, routing, live streams): shown as warnings
    // until split there. Remove a file from this list when its function is split.
    files: [
      'src/engine/context-impl.ts',
      'src/engine/executor.ts',
      'src/explain/format-explanation.ts',
      'src/explain/journal-spans.ts',
      'src/explain/replay.ts',
      'src/routing/model-router.ts',
      'src/server/runs-routes.ts',
      'src/server/step-detail.ts',
      'src/testing/openai-compatible-server.ts',
    ],
    rules: {
      'max-lines-per-function': ['warn', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  { files: ['eslint.config.js', '.dependency-cruiser.cjs'], ...tseslint.configs.disableTypeChecked },
);
