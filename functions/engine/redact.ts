/**
 * Replaces every occurrence of the secret. A last line of defence where text leaves the process
 * (the terminal, the Lambda's logs and result): no code path is meant to carry the key there.
 */
export function redactor(secret: string | undefined): (text: string) => string {
  if (!secret) return (text) => text;
  return (text) => text.split(secret).join('[redacted]');
}
