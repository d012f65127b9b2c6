/**
 * How the sync function's code is bundled, in esbuild's own terms, so anything else that bundles
 * the engine the way Lambda runs it (the benchmark) can start from the same options. Plain data:
 * no aws-cdk-lib here.
 */
import type { BuildOptions } from 'esbuild';

/**
 * Credential providers Lambda never reaches: it hands the function its role's credentials in
 * environment variables, which the SDK's default chain reads first. Left out of the bundle, they
 * shrink the cold start (docs/performance.md, "Lambda bundle").
 */
const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
];

/**
 * An ESM bundle for Node 24 with the AWS SDK inside (a pinned SDK, not whatever the runtime
 * ships), minified, `module` entry points first (a smaller bundle), and the `createRequire` banner
 * the SDK's CommonJS parts need in an ESM bundle (aliased, so it cannot clash with the bundle's own
 * imports).
 */
export const LAMBDA_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  external: UNREACHED_CREDENTIAL_PROVIDERS,
} satisfies BuildOptions;
