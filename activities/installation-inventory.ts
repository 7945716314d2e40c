/**
 * The durable inventory of installations (`tollgate.installations`, migrations/1764470000000_installations-inventory.sql):
 * the installation workflow writes its row through these activities as it moves, a fresh run reads it back, and
 * reconciliation lists it (which integrations have installations, and what each installation holds even when its
 * workflow is gone). Plain SQL with bound parameters; writes only ever move an installation's revision forward.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { InstallationRecord, InstallationStateName } from '../workflows/installation-messages';
import { FailureType } from '../workflows/failures';

interface Row {
  org_id: string;
  integration_id: string;
  task_queue: string;
  generation: number;
  state: InstallationStateName;
  tenant_id: string | null;
  enabled: boolean;
  configuration: Record<string, unknown>;
  resources: InstallationRecord['resources'];
  tombstone: InstallationRecord['tombstone'] | null;
  install_order: InstallationRecord['installOrder'] | null;
  enabled_order: InstallationRecord['enabledOrder'] | null;
  configuration_order: InstallationRecord['configurationOrder'] | null;
  recent_identities: string[];
  last_error: InstallationRecord['lastError'] | null;
  revision: string;
}

/** One inventory row as reconciliation reads it. */
export interface InventoryRow extends InstallationRecord {
  taskQueue: string;
}

export class InstallationInventory {
  constructor(private readonly pool: () => Pool) {}

  /** Writes the installation's row unless a newer revision is already stored. Returns whether it wrote. */
  async record(record: InstallationRecord, taskQueue: string): Promise<boolean> {
    const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
    const result = await this.query(
      `INSERT INTO tollgate.installations AS current (org_id, integration_id, task_queue, generation, state, tenant_id, enabled,
         configuration, resources, tombstone, install_order, enabled_order, configuration_order, recent_identities, last_error, revision, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now())
       ON CONFLICT (org_id, integration_id) DO UPDATE SET
         task_queue = EXCLUDED.task_queue, generation = EXCLUDED.generation, state = EXCLUDED.state, tenant_id = EXCLUDED.tenant_id,
         enabled = EXCLUDED.enabled, configuration = EXCLUDED.configuration, resources = EXCLUDED.resources,
         tombstone = EXCLUDED.tombstone, install_order = EXCLUDED.install_order, enabled_order = EXCLUDED.enabled_order,
         configuration_order = EXCLUDED.configuration_order, recent_identities = EXCLUDED.recent_identities,
         last_error = EXCLUDED.last_error, revision = EXCLUDED.revision, updated_at = now()
       WHERE current.revision <= EXCLUDED.revision`,
      [
        record.orgId,
        record.integrationId,
        taskQueue,
        record.generation,
        record.state,
        record.tenantId ?? null,
        record.enabled,
        json(record.configuration),
        json(record.resources),
        json(record.tombstone),
        json(record.installOrder),
        json(record.enabledOrder),
        json(record.configurationOrder),
        json(record.recentIdentities),
        json(record.lastError),
        record.revision,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async load(orgId: string, integrationId: string): Promise<InventoryRow | undefined> {
    const result = await this.query('SELECT * FROM tollgate.installations WHERE org_id = $1 AND integration_id = $2', [orgId, integrationId]);
    const row = result.rows[0];
    return row ? fromRow(row) : undefined;
  }

  /** The integrations that have installations whose workflows run on `taskQueue`. */
  async integrations(taskQueue: string): Promise<string[]> {
    const result = await this.query('SELECT DISTINCT integration_id FROM tollgate.installations WHERE task_queue = $1 ORDER BY integration_id', [taskQueue]);
    return result.rows.map((row) => row.integration_id);
  }

  /** Every installation of one integration. */
  async list(integrationId: string): Promise<InventoryRow[]> {
    const result = await this.query('SELECT * FROM tollgate.installations WHERE integration_id = $1 ORDER BY org_id', [integrationId]);
    return result.rows.map(fromRow);
  }

  private async query(text: string, values: unknown[]) {
    try {
      return await this.pool().query<Row>(text, values);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42P01: the migration has not run (the table is missing): a setup problem, not worth retrying.
      if (code === '42P01') {
        throw ApplicationFailure.create({ message: `the installation inventory is missing: ${(error as Error).message}`, type: FailureType.InventoryUnavailable, nonRetryable: true });
      }
      throw ApplicationFailure.create({ message: `the installation inventory is unavailable: ${(error as Error).message}`, type: FailureType.InventoryUnavailable });
    }
  }
}

function fromRow(row: Row): InventoryRow {
  return {
    orgId: row.org_id,
    integrationId: row.integration_id,
    taskQueue: row.task_queue,
    generation: row.generation,
    state: row.state,
    ...(row.tenant_id ? { tenantId: row.tenant_id } : {}),
    enabled: row.enabled,
    configuration: row.configuration,
    resources: row.resources,
    ...(row.tombstone ? { tombstone: row.tombstone } : {}),
    ...(row.install_order ? { installOrder: row.install_order } : {}),
    ...(row.enabled_order ? { enabledOrder: row.enabled_order } : {}),
    ...(row.configuration_order ? { configurationOrder: row.configuration_order } : {}),
    recentIdentities: row.recent_identities,
    ...(row.last_error ? { lastError: row.last_error } : {}),
    revision: Number(row.revision),
  };
}
