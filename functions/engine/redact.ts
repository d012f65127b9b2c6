/**
 * The one redaction of the API key. The engine applies it at its boundary: the Tavus API client
 * to every answer it reads (so no row, error detail or sentence built from an answer quotes the
 * key), and `runSync` to everything it logs, records and returns. The edges apply it again where
 * text leaves the process (the terminal, the Lambda's logs and result): a last line of defence.
 */
export function redactor(secret: string | undefined): (text: string) => string {
  if (!secret) return (text) => text;
  return (text) => text.split(secret).join('[redacted]');
}

/**
 * `value` with `redact` applied to every string in it, attribute names included. Plain data only
 * (parsed JSON, a run summary, log fields); objects and arrays are rewritten in place. Iterative,
 * so a value nested thousands of levels deep cannot overflow the stack.
 */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i += 1) {
        const item: unknown = node[i];
        if (typeof item === 'string') node[i] = redact(item);
        else if (item !== null && typeof item === 'object') pending.push(item);
      }
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      for (const name of Object.keys(record)) {
        const item = record[name];
        const clean = typeof item === 'string' ? redact(item) : item;
        const cleanName = redact(name);
        if (cleanName !== name) delete record[name];
        record[cleanName] = clean;
        if (clean !== null && typeof clean === 'object') pending.push(clean);
      }
    }
  }
  return value;
}
