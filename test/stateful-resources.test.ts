/**
 * A deploy never replaces a stateful resource by accident: the logical id, key schema, table name
 * and deletion and update-replace policies of the replicas, events and runs tables and of the
 * secret are held to a committed record (test/fixtures/stateful-resources.json). Changing one on
 * purpose means migrating, then updating the record deliberately (the failure message says how).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './support/cdk-app.js';
import { identityChanges, MIGRATION_ADVICE, statefulIdentities, type Identity } from './support/stateful-resources.js';

const FIXTURE = new URL('./fixtures/stateful-resources.json', import.meta.url);

type TemplateJson = { Resources: Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }> };

let template: TemplateJson;

beforeAll(() => {
  template = buildApp({ bundle: false }).template.toJSON() as TemplateJson;
  if (process.env.UPDATE_STATEFUL_FIXTURE === '1') writeFileSync(FIXTURE, `${JSON.stringify(statefulIdentities(template), null, 2)}\n`);
}, 300_000);

const recorded = (): Record<string, Identity> => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Identity>;

describe('the stateful resources', () => {
  it('keep their logical ids, key schemas, names and policies (test/fixtures/stateful-resources.json)', () => {
    const changes = identityChanges(recorded(), statefulIdentities(template));
    expect(changes, `${changes.join('\n')}\n${MIGRATION_ADVICE}`).toEqual([]);
  });

  it('are the three tables and the secret, the two data tables retained on deletion and on replacement', () => {
    const byName = (name: string) => Object.values(statefulIdentities(template)).find((identity) => identity.TableName === name);
    for (const name of ['tavus-replicas', 'tavus-replica-events']) {
      expect(byName(name), name).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    expect(byName('tavus-replica-sync-runs')).toBeDefined();
    expect(Object.values(statefulIdentities(template)).map((identity) => identity.Type).sort()).toEqual([
      'AWS::DynamoDB::GlobalTable',
      'AWS::DynamoDB::GlobalTable',
      'AWS::DynamoDB::GlobalTable',
      'AWS::SecretsManager::Secret',
    ]);
  });

  it('report a renamed logical id, a changed key, a new name and a dropped retention, each naming the resource', () => {
    const idOf = (name: string) => Object.keys(template.Resources).find((id) => template.Resources[id]!.Properties?.TableName === name)!;
    const [renamed, rekeyed, released] = [idOf('tavus-replica-sync-runs'), idOf('tavus-replica-events'), idOf('tavus-replicas')];
    const changed = structuredClone(template);
    changed.Resources[`${renamed}Renamed`] = changed.Resources[renamed]!;
    delete changed.Resources[renamed];
    changed.Resources[rekeyed]!.Properties.KeySchema = [...changed.Resources[rekeyed]!.Properties.KeySchema, { AttributeName: 'at', KeyType: 'RANGE' }];
    changed.Resources[rekeyed]!.Properties.TableName = 'another-name';
    changed.Resources[released]!.UpdateReplacePolicy = 'Delete';
    changed.Resources[released]!.DeletionPolicy = 'Delete';

    const changes = identityChanges(statefulIdentities(template), statefulIdentities(changed));
    expect(changes.filter((c) => c.startsWith(`${renamed} `))).toEqual([expect.stringContaining('is gone from the template')]);
    expect(changes.filter((c) => c.startsWith(`${renamed}Renamed `))).toEqual([expect.stringContaining('is new in the template')]);
    expect(changes.filter((c) => c.startsWith(`${rekeyed}: `)).map((c) => c.split(':')[1]!.trim().split(' ')[0])).toEqual(['TableName', 'KeySchema']);
    expect(changes.filter((c) => c.startsWith(`${released}: `))).toEqual([
      `${released}: DeletionPolicy changes from "Retain" to "Delete".`,
      `${released}: UpdateReplacePolicy changes from "Retain" to "Delete".`,
    ]);
    expect(MIGRATION_ADVICE).toContain('UPDATE_STATEFUL_FIXTURE=1');
    expect(MIGRATION_ADVICE).toContain('overrideLogicalId');
  });
});
