import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `source` condition, so
// tests run against src/ without a build.
const conditions = ['source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          // Some unit tests start node processes (churnctl, npm start) or run many
          // property cases: on a loaded two-core machine 5 s is not enough. A bound on
          // hanging, not a speed assertion.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/kit/**'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One broker on two cores: integration files run one at a time.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The operators' kit: AsyncAPI, Prometheus rules, the dashboard, the Helm chart,
          // the compose file. No broker; some tests run promtool or helm.
          name: 'kit',
          include: ['test/kit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
