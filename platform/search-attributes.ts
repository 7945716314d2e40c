/**
 * Search attributes that let operators filter in the Temporal UI ("all changes awaiting approval on ivr/main",
 * "every installation of org X"). The dev server registers them at start (`--search-attribute`); on a cluster,
 * `temporal operator search-attribute create` does (see docs/operations.md).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TollgateState = defineSearchAttributeKey('TollgateState', SearchAttributeType.KEYWORD);
export const TollgateTarget = defineSearchAttributeKey('TollgateTarget', SearchAttributeType.KEYWORD);
export const TollgateRequester = defineSearchAttributeKey('TollgateRequester', SearchAttributeType.KEYWORD);
export const TollgateOrg = defineSearchAttributeKey('TollgateOrg', SearchAttributeType.KEYWORD);
export const TollgateIntegration = defineSearchAttributeKey('TollgateIntegration', SearchAttributeType.KEYWORD);
export const TollgateTenant = defineSearchAttributeKey('TollgateTenant', SearchAttributeType.KEYWORD);
export const TollgateKind = defineSearchAttributeKey('TollgateKind', SearchAttributeType.KEYWORD);
/** How an audit arrived (`webhook` | `poll`): the heartbeat finds the last webhook-delivered audit by it. */
export const TollgateSource = defineSearchAttributeKey('TollgateSource', SearchAttributeType.KEYWORD);
/** `owner/repo#N` of the pull request a change is linked to: the GitHub webhook finds the changes to re-check by it. */
export const TollgatePullRequest = defineSearchAttributeKey('TollgatePullRequest', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  TollgateState,
  TollgateTarget,
  TollgateRequester,
  TollgateOrg,
  TollgateIntegration,
  TollgateTenant,
  TollgateKind,
  TollgateSource,
  TollgatePullRequest,
];

/** `name=Keyword` pairs, the form both `temporal server start-dev --search-attribute` and the CLI take. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
