/** What the notifier and the stack must agree on. Plain data: the CDK app imports it too. */

export const NOTIFIER_SERVICE_NAME = 'tavus-replica-sync-notifier';

/** The notifier's own environment variables (besides the table names, for the commands it prints). */
export const NOTIFIER_ENVIRONMENT = {
  topicArn: 'ALERTS_TOPIC_ARN',
  dashboardName: 'DASHBOARD_NAME',
} as const;
