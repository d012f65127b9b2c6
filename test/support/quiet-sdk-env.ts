/**
 * For a child process whose environment a test builds from scratch: the AWS SDK warns on Node 20
 * in every process, which is noise here. Workers already have it (vitest.config.ts), so a child
 * given `...process.env` needs nothing more.
 */
export const QUIET_SDK_ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;
