// A minimal stand-in for the Lambda Node.js runtime, run as its own process by
// test/lambda-bundle.test.ts: it imports the synthesized bundle with plain Node (no test-runner
// transforms), then calls the handler once per event in one "container", the way warm
// invocations reuse module state. Results go to HOST_RESULT_FILE; logs stay on stdout/stderr.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundleFile] = process.argv.slice(2);
// HOST_EVENTS_FILE for batches too large for an environment variable (128 KB).
const events = JSON.parse(process.env.HOST_EVENTS_FILE ? readFileSync(process.env.HOST_EVENTS_FILE, 'utf8') : (process.env.HOST_EVENTS ?? '[{}]'));
const timeoutMs = Number(process.env.HOST_TIMEOUT_MS ?? 900000);

const { handler } = await import(pathToFileURL(bundleFile).href);
const results = [];
for (const event of events) {
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    results.push({ ok: true, value: await handler(event, context) });
  } catch (error) {
    results.push({ ok: false, errorType: error?.name, errorMessage: error?.message });
  }
}
writeFileSync(process.env.HOST_RESULT_FILE, JSON.stringify(results));
// Like Lambda freezing the container: open sockets (keep-alive) must not keep this process up.
process.exit(0);
