/**
 * Zone arrows from STYLE.md: each folder imports only what its zone allows. Every top-level source
 * folder is cruised (package.json "depcruise") and named by a rule's `from`; test/zones/zone-coverage
 * fails when a new folder is not.
 */
module.exports = {
  forbidden: [
    { name: 'core-is-a-leaf', severity: 'error',
      from: { path: '^plugin/core' }, to: { path: '^(plugin/(?!core)|central|web-ui|tools|test|bench)' } },
    { name: 'sdk-imports-core-only', severity: 'error',
      from: { path: '^plugin/sdk' }, to: { path: '^plugin/(?!core|sdk)' } },
    { name: 'gateway-never-imports-workers', severity: 'error',
      from: { path: '^plugin/gateway' }, to: { path: '^(plugin/(deid|annotate|inference|cli|seal)|central)' } },
    { name: 'deid-stays-sealed', severity: 'error',
      from: { path: '^plugin/deid' }, to: { path: '^plugin/(?!core|deid|pixels|seal)' } },
    // The kernel seal every sandboxed process installs (deid worker, annotator, uplink): zone-neutral like core.
    { name: 'seal-imports-core-only', severity: 'error',
      from: { path: '^plugin/seal' }, to: { path: '^plugin/(?!core|seal)' } },
    { name: 'pixels-imports-core-only', severity: 'error',
      from: { path: '^plugin/pixels' }, to: { path: '^plugin/(?!core|pixels)' } },
    // The inference functions and their commissioning: pure functions over a decoded image, holding no
    // data and no policy, shared by the annotator (de-identified zone) and the central server, which
    // runs the sites' own checks on a trained package before publishing it, so it never publishes
    // what sites would refuse (central/training/site-commissioning.ts). Neither zone leaks through it.
    { name: 'inference-imports-core-and-pixels-only', severity: 'error',
      from: { path: '^plugin/inference' }, to: { path: '^(plugin/(?!core|pixels|inference)|central)' } },
    { name: 'annotate-stays-deidentified', severity: 'error',
      from: { path: '^plugin/annotate' }, to: { path: '^(plugin/(deid|gateway|relink|sdk|cli)|central)' } },
    { name: 'relink-imports-core-and-sdk', severity: 'error',
      from: { path: '^plugin/relink' }, to: { path: '^plugin/(?!core|sdk|relink)' } },
    // central decodes the de-identified uploads it trains on with plugin/pixels: pixels imports only
    // core (rule above) and holds no policy or PHI, so it is zone-neutral like core; moving it into
    // core would drag the native addon and the JPEG 2000 codec into every zone's leaf.
    { name: 'central-imports-core-pixels-and-inference-only', severity: 'error',
      from: { path: '^central' }, to: { path: '^plugin/(?!core|pixels|inference)' } },
    // The administrator's command line runs on the PHI side (it de-identifies files, starts Orthanc
    // and the demo's central server); the de-identified zone's annotator is not its to import, and
    // no runtime code imports the command line.
    { name: 'cli-never-imports-the-annotator', severity: 'error',
      from: { path: '^plugin/cli' }, to: { path: '^plugin/(annotate|inference)' } },
    { name: 'only-the-cli-imports-the-cli', severity: 'error',
      from: { path: '^(plugin/(?!cli)|central|web-ui|tools)' }, to: { path: '^plugin/cli' } },
    // The admin UI runs in the browser and talks only to /ai-bridge/: it imports the REST contract
    // (plugin/core/admin-api.ts) and nothing that runs on the server.
    { name: 'web-ui-imports-the-api-contract-only', severity: 'error',
      from: { path: '^web-ui' }, to: { path: '^(plugin/(?!core)|central|tools|test|bench)' } },
    // Generators and model builders run at build time on synthetic data: they read the leaves
    // (core, policy tables, pixels, inference, model packages) and never a running process's code.
    { name: 'tools-never-import-running-processes', severity: 'error',
      from: { path: '^tools' }, to: { path: '^(plugin/(gateway|relink|sdk|seal|cli)|central|web-ui|test|bench)' } },
    // Benchmarks drive the product as tests do (harness, CLI, stores) and measure the server side;
    // nothing ships with them.
    { name: 'bench-measures-the-server', severity: 'error',
      from: { path: '^bench' }, to: { path: '^web-ui' } },
    { name: 'bench-is-not-a-library', severity: 'error',
      from: { path: '^(plugin|central|web-ui|tools|test)' }, to: { path: '^bench' } },
    { name: 'tests-are-not-a-library', severity: 'error',
      from: { path: '^(plugin|central|web-ui|tools)' }, to: { path: '^test' } },
    // The `orthanc-ai-bridge` command loads the compiled CLI from dist/ by path; Node cannot run the
    // TypeScript sources, so an import of them would only fail at the administrator's prompt.
    { name: 'bin-loads-the-built-cli-only', severity: 'error',
      from: { path: '^bin' }, to: { path: '^(plugin|central|web-ui|tools|test|bench)' } },
    // The report system link (issue 16) is PHI zone: gateway, core and sdk only, and nothing outside the gateway reaches it.
    { name: 'reports-imports-gateway-core-sdk-only', severity: 'error',
      from: { path: '^plugin/gateway/reports' }, to: { path: '^plugin/(?!core|sdk|gateway)' } },
    { name: 'reports-only-from-gateway', severity: 'error',
      from: { path: '^(plugin/(?!gateway)|central|web-ui|tools)' }, to: { path: '^plugin/gateway/reports' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
