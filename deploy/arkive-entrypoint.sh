#!/bin/sh
# The image's entry point: runs one arkive process, named by the first argument.
set -eu
case "${1:-}" in
  gateway | ingest | hashing | lineage | retention | web)
    service=$1
    shift
    exec python -m "arkive_${service}" "$@"
    ;;
  *)
    echo "usage: <image> gateway|ingest|hashing|lineage|retention|web" >&2
    exit 2
    ;;
esac
