/**
 * The identity of each stateful resource in a template: what, changed, makes CloudFormation
 * replace it (a new, empty table or secret; the old one orphaned or deleted by its policy). Held
 * against test/fixtures/stateful-resources.json by test/stateful-resources.test.ts.
 */

/** Resource types that hold data a deploy must never lose. */
export const STATEFUL_TYPES = ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret'];

type CfnResource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
export type Identity = Record<string, unknown>;

/** Logical id -> identity: type, both policies, and the properties whose change means replacement. */
export function statefulIdentities(template: { Resources?: Record<string, CfnResource> }): Record<string, Identity> {
  const identities: Record<string, Identity> = {};
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (!STATEFUL_TYPES.includes(resource.Type)) continue;
    const props = resource.Properties ?? {};
    const keySchema = (props.KeySchema ?? []) as Array<{ AttributeName: string; KeyType: string }>;
    const types = new Map(((props.AttributeDefinitions ?? []) as Array<{ AttributeName: string; AttributeType: string }>).map((a) => [a.AttributeName, a.AttributeType]));
    identities[id] = {
      Type: resource.Type,
      DeletionPolicy: resource.DeletionPolicy ?? 'Delete',
      UpdateReplacePolicy: resource.UpdateReplacePolicy ?? 'Delete',
      ...(props.TableName !== undefined ? { TableName: props.TableName } : {}),
      ...(keySchema.length > 0 ? { KeySchema: keySchema.map((key) => `${key.AttributeName} ${key.KeyType} ${types.get(key.AttributeName)}`) } : {}),
      ...(props.LocalSecondaryIndexes !== undefined ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes } : {}),
      ...(props.Name !== undefined ? { Name: props.Name } : {}),
    };
  }
  return identities;
}

/** One sentence per difference between the recorded identities and the template's. */
export function identityChanges(recorded: Record<string, Identity>, current: Record<string, Identity>): string[] {
  const changes: string[] = [];
  for (const [id, was] of Object.entries(recorded)) {
    const now = current[id];
    if (now === undefined) {
      changes.push(`${id} (${String(was.Type)}) is gone from the template: its logical id changed or it was removed.`);
      continue;
    }
    for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
      const before = JSON.stringify(was[field]);
      const after = JSON.stringify(now[field]);
      if (before !== after) changes.push(`${id}: ${field} changes from ${before ?? 'unset'} to ${after ?? 'unset'}.`);
    }
  }
  for (const [id, now] of Object.entries(current)) {
    if (recorded[id] === undefined) changes.push(`${id} (${String(now.Type)}) is new in the template and not recorded.`);
  }
  return changes;
}

/** What to do about a change, for the failure message. */
export const MIGRATION_ADVICE = [
  'Deployed, each change above replaces a resource that holds data: CloudFormation creates a new, empty table or secret and orphans (or deletes) the old one.',
  'If this is a refactor, keep the old logical id: (construct.node.defaultChild as CfnResource).overrideLogicalId("<old id>"), and keep the key schema, table name and policies.',
  'If the change is meant, migrate first (docs/deploying.md, "Changing a table on purpose"), then record it: UPDATE_STATEFUL_FIXTURE=1 npx vitest run test/stateful-resources.test.ts, and commit test/fixtures/stateful-resources.json with the migration.',
].join('\n');
