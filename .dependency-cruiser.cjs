/**
 * The project's structure rules, checked by `npm run lint` (dependency-cruiser: it reads the
 * TypeScript imports, type-only ones included, and fails on a rule broken).
 * - no import cycles anywhere (src, bench, deploy);
 * - the product does not depend on the devnet: only the commands that run it (the CLI's `devnet`
 *   and `demo` commands, the demo itself) may import it, and then only through its front door
 *   (src/devnet/index.ts), as bench/ and deploy/ do;
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
      comment:
        'Outside src/devnet (src, bench, deploy), import the devnet from src/devnet (its index), not its files.',
      from: { pathNot: '^src/devnet/' },
      to: { path: '^src/devnet/', pathNot: '^src/devnet/index\\.ts$' },
    },
    {
      name: 'workflow-bundle-is-deterministic',
      severity: 'error',
      comment:
        "Workflow code runs in Temporal's sandbox: no Node built-ins, no Lit SDK, no activities, no parser (zod) in the bundle.",
      from: { path: '^src/workflows/' },
      to: {
        // No zod, no ms: the workflow checks the normalised spec in plain TypeScript (spec-check.ts).
        pathNot: [
          '^src/workflows/',
          '^src/shared/(spec-check|spec-rules|input-limits|types|names|messages|search-attributes|activity-contract)\\.ts$',
          '^node_modules/@temporalio/(workflow|common)/',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'workflow-bundle-reaches-no-parser-or-sdk',
      severity: 'error',
      comment:
        'What the workflow bundle reaches, through any chain of imports: no zod or ms, no Lit SDK, no ethers, no Node built-ins.',
      from: { path: '^src/workflows/index\\.ts$' },
      to: {
        reachable: true,
        path: ['^node_modules/(zod|ms|ethers|@lit-protocol)/', '^src/(activities|devnet|lit|client|cli|worker)'],
      },
    },
    {
      name: 'workflow-bundle-no-node-builtins',
      severity: 'error',
      from: { path: '^src/workflows/index\\.ts$' },
      comment: "Only assert, url and util of Node's modules are allowed in Temporal's workflow sandbox.",
      to: {
        reachable: true,
        path: '^(node:)?(fs|path|os|crypto|child_process|net|dgram|http|http2|https|worker_threads|stream|events|dns|tls|zlib|vm|process|buffer|timers|readline|perf_hooks|async_hooks|cluster)(/|$)',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
