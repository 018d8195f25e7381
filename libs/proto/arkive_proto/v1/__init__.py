"""Generated from proto/arkive/v1 by scripts/gen_proto.sh; do not edit."""
