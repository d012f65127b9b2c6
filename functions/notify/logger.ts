/** The notifier's Powertools logger, once per container; the stack sets its service name. */
import { Logger } from '@aws-lambda-powertools/logger';
import { NOTIFIER_SERVICE_NAME } from '../engine/contract/notifier.js';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || NOTIFIER_SERVICE_NAME });
