/**
 * Reads an HTTP answer's body with a cap: whatever answers at the API URL may send gigabytes, and
 * `response.text()` would hold them all before anyone could look.
 */

/** The most of one answer the sync reads: a page of 100 replicas is a few hundred KB. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The body as text (UTF-8, as `response.text()` decodes it), or undefined when it is longer than
 * `maxBytes`: then the rest is neither read nor kept. A declared Content-Length over the cap is
 * refused before a byte is read.
 */
export async function readCappedBody(response: Response, maxBytes = MAX_BODY_BYTES): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total));
}
