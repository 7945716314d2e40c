/**
 * Everything the emulated Genesys Cloud and partner systems remember, as plain in-memory records: objects and
 * version rules, tokens, subscriptions, integrations and installations, tenants, CRM connections, archives, alerts
 * faults, and Jira's issues. Outgoing deliveries are not here (delivery.ts owns them); a reset replaces the whole state.
 */
import { AuditTrailState } from './audit-trail';
import type { Fault } from './faults';
import type { IntegrationWebhook } from './integrations';
import { JiraState } from './jira';
import { PlatformState } from './platform-objects';
import { RequestBudgetState } from './request-budgets';
import type { AuditSubscription } from './webhooks';

/** Who last changed a configuration object: the API client (the gate's service account) or a human in the UI. */
export interface Modifier {
  kind: 'client' | 'user';
  id: string;
}

export interface ConfigObject {
  id: string;
  type: string;
  version: number;
  lastModifiedTime: string;
  modifiedBy: Modifier;
  fields: Record<string, unknown>;
  /** Order of the last change across all objects, so "oldest first" is stable within one millisecond. */
  changeSeq: number;
}

/** `increment`: the seed's rule (send current + 1). `current`: Genesys-native (send current, server increments). */
export type VersionRule = 'increment' | 'current';

export interface AccessToken {
  token: string;
  clientId: string;
  issuedAt: number;
  expiresAt: number;
}

/** A token an installed integration holds for an org; uninstall revokes it. */
export interface IntegrationToken {
  orgId: string;
  integrationId: string;
  issuedAt: string;
  revokedAt?: string;
}

export type InstallationStatus = 'installed' | 'disabled';

export interface Installation {
  orgId: string;
  integrationId: string;
  tenantId: string;
  status: InstallationStatus;
  configuration: Record<string, unknown>;
  installedAt: string;
}

export interface Tenant {
  tenantId: string;
  orgId: string;
  integrationId: string;
  configuration: Record<string, unknown>;
  enabled: boolean;
  streamsEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** How often a tenant id was created: successful creates, and all attempts including the ones refused with 409. */
export interface TenantCreateCount {
  createCount: number;
  createAttempts: number;
}

/** A tenant's CRM connection and the installation (org + integration) that owns it. */
export interface CrmConnection {
  tenantId: string;
  orgId: string;
  integrationId: string;
  crmEndpoint: string;
  connectedAt: string;
  updatedAt: string;
}

export interface Archive {
  id: string;
  orgId: string;
  integrationId: string;
  tenantId: string;
  archivedAt: string;
}

export interface Alert {
  receivedAt: string;
  body: Record<string, unknown>;
}

export function installationKey(orgId: string, integrationId: string): string {
  return `${orgId}:${integrationId}`;
}

export function objectKey(type: string, id: string): string {
  return `${type}/${id}`;
}

/** Everything the emulator remembers except outgoing deliveries (the delivery queue owns those). All in memory;
 * `POST /__emulator/reset` replaces it with a fresh one. */
export class EmulatorState {
  readonly objects = new Map<string, ConfigObject>();
  readonly versionRules = new Map<string, VersionRule>();
  changeSeq = 0;

  readonly accessTokens = new Map<string, AccessToken>();
  readonly integrationTokens: IntegrationToken[] = [];

  readonly subscriptions = new Map<string, AuditSubscription>();
  readonly integrationWebhooks = new Map<string, IntegrationWebhook>();
  readonly installations = new Map<string, Installation>();
  /** Per-installation event counter; it outlives an uninstall so a re-install keeps counting upward. */
  readonly eventSequences = new Map<string, number>();

  readonly tenants = new Map<string, Tenant>();
  readonly tenantCreateCounts = new Map<string, TenantCreateCount>();
  readonly crmConnections = new Map<string, CrmConnection>();
  readonly archives: Archive[] = [];
  readonly alerts: Alert[] = [];

  readonly faults: Fault[] = [];

  /** The real platform's objects (Architect, routing, data tables, users), their audit trail, and the rate-limit
   * counters with the request log. */
  readonly platform = new PlatformState();
  readonly auditTrail = new AuditTrailState();
  readonly requestBudgets = new RequestBudgetState();

  /** Jira Service Management's issues, for the change tickets (jira.ts). */
  readonly jira = new JiraState();

  versionRuleOf(type: string): VersionRule {
    return this.versionRules.get(type) ?? 'increment';
  }

  nextSequence(orgId: string, integrationId: string): number {
    const key = installationKey(orgId, integrationId);
    const next = (this.eventSequences.get(key) ?? 0) + 1;
    this.eventSequences.set(key, next);
    return next;
  }

  activeIntegrationTokens(orgId: string, integrationId: string): IntegrationToken[] {
    return this.integrationTokens.filter(
      (token) => token.orgId === orgId && token.integrationId === integrationId && token.revokedAt === undefined,
    );
  }
}
