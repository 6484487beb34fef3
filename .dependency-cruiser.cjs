// dependency-cruiser: the module rules `npm test` checks (test/architecture.test.ts).
// Type-only imports are free; a cycle that carries a value is an error, since it makes module
// initialisation order matter and hides which stage depends on which.
module.exports = {
  forbidden: [
    {
      name: 'no-value-cycles',
      severity: 'error',
      comment: 'compiler/ modules may not import each other in a cycle that carries a value (type-only imports are fine)',
      from: { path: '^compiler/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^compiler/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
