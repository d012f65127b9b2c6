/**
 * The Powertools logger and metrics, created once per container and shared. The stack sets
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the fallbacks keep the bundle usable
 * (and its metrics where the alarms look) when it runs outside the stack, as in the bundle test.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../engine/contract/telemetry.js';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

export const logger = new Logger({ serviceName });

/** Metrics go out as EMF log lines: no PutMetricData call, so no CloudWatch permission is needed. */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
});
