/**
 * The project's structure rules, checked by `npm run lint` (dependency-cruiser: it reads the
 * TypeScript imports, type-only ones included, and fails on a rule broken).
 * - no import cycles anywhere (src, bench, deploy);
 * - the product does not depend on the devnet: only the commands that run it (the CLI's `devnet`
 *   and `demo` commands, the demo itself) may import it, and then only through its front door
 *   (src/devnet/index.ts);
 * - the workflow bundle imports no Node-only or Lit SDK code (Temporal's sandbox would refuse it).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into a module both can import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-on-devnet',
      severity: 'error',
      comment:
        'The keeper must work with any Lit v7 network: only the devnet and demo commands (and the demo) may use the devnet.',
      from: {
        path: '^src/',
        pathNot: ['^src/devnet/', '^src/demo/', '^src/cli/commands/(devnet|demo)\\.ts$'],
      },
      to: { path: '^src/devnet/' },
    },
    {
      name: 'devnet-through-its-front-door',
      severity: 'error',
      comment: 'Outside src/devnet, import the devnet from src/devnet (its index), not its files.',
      from: { path: '^src/', pathNot: '^src/devnet/' },
      to: { path: '^src/devnet/', pathNot: '^src/devnet/index\\.ts$' },
    },
    {
      name: 'workflow-bundle-is-deterministic',
      severity: 'error',
      comment:
        "Workflow code runs in Temporal's sandbox: no Node built-ins beyond assert/url/util, no Lit SDK, no activities.",
      from: { path: '^src/workflows/' },
      to: {
        pathNot: ['^src/workflows/', '^src/shared/', '^node_modules/(@temporalio/(workflow|common)|zod|ms)/'],
        dependencyTypesNot: ['type-only'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
