/**
 * Records the IAM action and the table of every DynamoDB request a client sends, read from the
 * request itself as it goes on the wire (its X-Amz-Target and JSON body), after the document
 * client has done its work. A transaction is recorded item by item, as IAM authorizes it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface RecordedAction {
  action: string;
  /** The table name, with `/index/NAME` when the request reads an index. */
  resource: string;
}

export interface ActionRecorder {
  /** Each distinct (action, resource) seen while recording. */
  readonly seen: RecordedAction[];
  start(): void;
  stop(): void;
}

type Body = Record<string, any>;

/** The IAM actions and resources one request needs, from its operation name and body. */
export function actionsOf(operation: string, body: Body): RecordedAction[] {
  const on = (table: string, index?: string) => (index ? `${table}/index/${index}` : table);
  switch (operation) {
    case 'TransactWriteItems': {
      const itemAction: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
      return (body.TransactItems as Body[]).flatMap((item) =>
        Object.entries(item).map(([kind, request]) => ({ action: `dynamodb:${itemAction[kind] ?? kind}`, resource: on(request.TableName) })),
      );
    }
    case 'TransactGetItems':
      return (body.TransactItems as Body[]).map((item) => ({ action: 'dynamodb:GetItem', resource: on(item.Get.TableName) }));
    case 'BatchWriteItem':
    case 'BatchGetItem':
      return Object.keys(body.RequestItems as Body).map((table) => ({ action: `dynamodb:${operation}`, resource: on(table) }));
    default:
      // Scan, Query, GetItem, PutItem, UpdateItem, DeleteItem, and anything else by its own name.
      return [{ action: `dynamodb:${operation}`, resource: on(body.TableName ?? '(no table)', body.IndexName) }];
  }
}

export function recordDynamoDbActions(client: DynamoDBClient): ActionRecorder {
  const seen = new Map<string, RecordedAction>();
  let recording = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const target = request.headers?.['x-amz-target'];
      if (recording && target) {
        // The serialized JSON, as text or bytes depending on the SDK version.
        const body = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body);
        const operation = target.slice(target.indexOf('.') + 1);
        for (const action of actionsOf(operation, JSON.parse(body) as Body)) seen.set(`${action.action} ${action.resource}`, action);
      }
      return next(args);
    },
    { step: 'build', name: 'recordDynamoDbActions' },
  );
  return {
    get seen() {
      return [...seen.values()];
    },
    start: () => void (recording = true),
    stop: () => void (recording = false),
  };
}
