#!/bin/sh
# Entrypoint of the compose file's `temporal` service (temporalio/auto-setup). The image reads the database password
# from POSTGRES_PWD only, not from a file; the password is a Docker secret, so it is read here from POSTGRES_PWD_FILE
# into POSTGRES_PWD for the image's own entrypoint, and never appears in the compose file or the environment of
# anything else.
set -eu
if [ -n "${POSTGRES_PWD_FILE:-}" ]; then
  if [ ! -r "$POSTGRES_PWD_FILE" ]; then
    echo "temporal-entrypoint: POSTGRES_PWD_FILE=$POSTGRES_PWD_FILE cannot be read" >&2
    exit 1
  fi
  POSTGRES_PWD="$(cat "$POSTGRES_PWD_FILE")"
  export POSTGRES_PWD
  unset POSTGRES_PWD_FILE
fi
exec /etc/temporal/entrypoint.sh "$@"
