/**
 * The one command that puts the Tavus API key into its Secrets Manager secret: a stack output, and
 * quoted by the deployed function when the secret is empty. Plain text: the CDK app imports it too.
 */

/** The exact command that puts the key into the secret, reading it from the operator's shell. */
export function putSecretValueCommand(secretArn: string): string {
  return `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string "$TAVUS_API_KEY"`;
}
