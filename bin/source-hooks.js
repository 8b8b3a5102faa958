// Resolves this package's own name ('baton', 'baton/testing') through the "baton-source" export condition,
// so a checkout runs its TypeScript sources (Node strips the types) without a build. Only the self-
// reference gets the condition: passing --conditions=source to Node would also send every dependency
// that publishes a "source" condition to TypeScript inside node_modules, which Node refuses to run.
// Use: node --import ./bin/source-hooks.js file.ts (bin/baton.js registers it itself).
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'baton' || specifier.startsWith('baton/')) {
      return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'baton-source'] });
    }
    return nextResolve(specifier, context);
  },
});
