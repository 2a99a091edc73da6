/** Zone arrows from STYLE.md: each folder imports only what its zone allows. */
module.exports = {
  forbidden: [
    { name: 'core-is-a-leaf', severity: 'error',
      from: { path: '^plugin/core' }, to: { path: '^plugin/(?!core)' } },
    { name: 'sdk-imports-core-only', severity: 'error',
      from: { path: '^plugin/sdk' }, to: { path: '^plugin/(?!core|sdk)' } },
    { name: 'gateway-never-imports-workers', severity: 'error',
      from: { path: '^plugin/gateway' }, to: { path: '^plugin/(deid|annotate|central|cli|seal)' } },
    { name: 'deid-stays-sealed', severity: 'error',
      from: { path: '^plugin/deid' }, to: { path: '^plugin/(?!core|deid|pixels|seal)' } },
    // The kernel seal every sandboxed process installs (deid worker, annotator, uplink): zone-neutral like core.
    { name: 'seal-imports-core-only', severity: 'error',
      from: { path: '^plugin/seal' }, to: { path: '^plugin/(?!core|seal)' } },
    { name: 'pixels-imports-core-only', severity: 'error',
      from: { path: '^plugin/pixels' }, to: { path: '^plugin/(?!core|pixels)' } },
    { name: 'annotate-stays-deidentified', severity: 'error',
      from: { path: '^plugin/annotate' }, to: { path: '^plugin/(deid|gateway|relink|sdk|cli)' } },
    { name: 'relink-imports-core-and-sdk', severity: 'error',
      from: { path: '^plugin/relink' }, to: { path: '^plugin/(?!core|sdk|relink)' } },
    // central decodes the de-identified uploads it trains on with plugin/pixels: pixels imports only
    // core (rule above) and holds no policy or PHI, so it is zone-neutral like core; moving it into
    // core would drag the native addon and the JPEG 2000 codec into every zone's leaf.
    // central also runs the sites' own inference and commissioning (pure functions over a decoded
    // image, de-identified zone code holding no data) on a trained package before publishing it, so
    // it never publishes what sites would refuse (central/training/site-commissioning.ts).
    { name: 'central-imports-core-pixels-and-site-inference-only', severity: 'error',
      from: { path: '^central' }, to: { path: '^plugin/(?!core|pixels|annotate/inference|annotate/models/commissioning)' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
