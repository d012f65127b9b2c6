/** A whole-table read in parallel segments, shared by the engine's state read and the query's report. */
import { paginateScan, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * Reads a whole table in parallel segments, handing each page's items to `onItems` as it comes
 * (with its segment), so a caller can keep what it needs instead of every page. `send` wraps each
 * segment's read (error sentences).
 */
export async function scanSegments(
  documents: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'Segment' | 'TotalSegments' | 'ExclusiveStartKey'>,
  segments: number,
  onItems: (items: Record<string, unknown>[], segment: number) => void,
  send: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, (_, segment) =>
      send(async () => {
        for await (const page of paginateScan({ client: documents }, { ...input, Segment: segment, TotalSegments: segments })) {
          onItems(page.Items ?? [], segment);
        }
      }),
    ),
  );
}
