"""Generated protobuf and gRPC code for arkive (see scripts/gen_proto.sh)."""
