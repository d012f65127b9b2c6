import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run: starting java per file would cost 2-3 s each.
    globalSetup: ['test/support/global-setup.ts'],
    // DynamoDB Local and simulated slow APIs make some tests legitimately take seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      // The AWS SDK warns on Node 20 in every worker; the warning is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
