from tests.grpc.conftest import channel, grpc_ctx, grpc_port, stub  # noqa: F401  (the gRPC server fixtures)
