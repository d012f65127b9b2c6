/** The production parts of a run, wired once for every edge (the Lambda, the CLI, the demo, tests). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoReplicaStore } from './load/dynamo-replica-store.js';
import { DynamoRunLedger } from './load/dynamo-run-ledger.js';
import { ENVIRONMENT_TERMS, type SettingTerms } from './settings/terms.js';
import type { SyncSettings } from './settings/registry.js';
import type { SyncDependencies } from './sync.js';
import { TavusApi, type ApiTuning } from './extract/tavus-api.js';
import { redactor } from './redact.js';

export interface ProductionParts {
  client: DynamoDBClient;
  settings: SyncSettings;
  apiKey: string;
  /** How advice names settings to this edge's user; environment names by default. */
  terms?: SettingTerms;
  /** API tuning for tests and the benchmark; production uses the defaults. */
  tuning?: ApiTuning;
}

/**
 * The Tavus API as the page source, DynamoDB as the replica store and the run ledger.
 * @returns the parts of `SyncDependencies` that talk to the outside world, plus the terms and the key's redaction
 */
export function productionParts({ client, settings, apiKey, terms = ENVIRONMENT_TERMS, tuning }: ProductionParts): Pick<
  SyncDependencies,
  'source' | 'store' | 'ledger' | 'terms' | 'redact'
> & { source: TavusApi; store: DynamoReplicaStore; ledger: DynamoRunLedger } {
  return {
    source: new TavusApi({ baseUrl: settings.apiUrl, apiResource: settings.apiResource, apiKey, terms, ...tuning }),
    store: new DynamoReplicaStore(client, settings.tables),
    ledger: new DynamoRunLedger(client, settings.tables),
    terms,
    redact: redactor(apiKey),
  };
}
