#!/bin/sh
# One-shot job of the compose file (temporalio/admin-tools): registers Tollgate's search attributes on the namespace.
# Idempotent: it creates only the attributes the namespace does not have yet, so it can run at every `docker compose
# up`; any real error (Temporal unreachable, a refused create) fails the job, and the worker, which waits for it to
# complete successfully, does not start. The names are platform/search-attributes.ts's (test/docker-compose.test.ts
# holds the two lists equal).
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
existing="$(temporal operator search-attribute list --namespace "$namespace")"
for name in TollgateState TollgateTarget TollgateRequester TollgateOrg TollgateIntegration TollgateTenant TollgateKind TollgateSource TollgatePullRequest; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "$name: already registered"
    continue
  fi
  temporal operator search-attribute create --namespace "$namespace" --name "$name" --type Keyword
  echo "$name: registered"
done
