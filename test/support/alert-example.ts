/** The alerts the deploy guide shows as they arrive (docs/deploying.md, "Alerts"); a test regenerates them. */
import type { Alert } from '../../functions/notify/alert.js';
import type { AlertContext } from '../../functions/notify/commands.js';

export const EXAMPLE_CONTEXT: AlertContext = {
  region: 'eu-west-1',
  replicasTable: 'tavus-replicas',
  eventsTable: 'tavus-replica-events',
  dashboardName: 'TavusReplicaSync-eu-west-1',
};

export const EXAMPLE_ALERTS: Alert[] = [
  { replica_id: 'r79e1c033f', kind: 'stuck', replica_name: 'Anna - studio intro', status: 'started', training_progress: '40/100', since: '2026-11-29T04:00:00.000Z' },
  { replica_id: 'r4c2b8e911', kind: 'stuck', replica_name: 'Ben - webinar', status: 'started', training_progress: '12/100', since: '2026-11-29T05:30:00.000Z' },
  {
    replica_id: 'rd1f07a3b2',
    kind: 'error',
    replica_name: 'Chloe - sales pitch',
    status: 'error',
    training_progress: '0/100',
    error_message: 'The training video must show one face for at least one minute.',
    since: '2026-11-29T09:55:00.000Z',
  },
];
