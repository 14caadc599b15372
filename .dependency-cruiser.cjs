/**
 * Layering rules checked by `npm run lint` (part of `npm test`): the domain is pure and points
 * nowhere; adapters point inward; the CLI is the only place that wires everything.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds pure logic: no Node built-ins, no adapters, no I/O libraries (temporal-polyfill: time-zone rules for maintenance windows).',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: ['^src/domain/', '(^|/)node_modules/(zod|ae-cvss-calculator|yaml|temporal-polyfill)/'] },
    },
    {
      name: 'gates-are-an-edge',
      comment: 'src/gates measures through Prometheus, HTTP and commands for the rollout engine: it knows the domain (and the protocol\'s bounded output) only, like the feeds.',
      severity: 'error',
      from: { path: '^src/gates/' },
      to: { path: '^src/(?!domain/|gates/|protocol/output-tail)' },
    },
    {
      name: 'executors-are-an-edge',
      comment: 'src/executors reaches hosts over SSH, command hooks and the Kubernetes API for the job worker: it knows the domain and the job protocol only.',
      severity: 'error',
      from: { path: '^src/executors/' },
      to: { path: '^src/(?!domain/|protocol/|executors/)' },
    },
    {
      name: 'adapters-do-not-import-cli',
      comment: 'Only the CLI wires commands; nothing depends on it.',
      severity: 'error',
      from: { path: '^src/(?!cli/)' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'store-does-not-import-app',
      comment: 'The store is an adapter under the application services, never above them.',
      severity: 'error',
      from: { path: '^src/(store|feeds|agent)/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'web-is-browser-code',
      comment: 'src/web runs in the browser: it imports only itself and the libraries the server ships under /assets/vendor.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { pathNot: ['^src/web/', '(^|/)node_modules/(preact|htm|uplot)/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
