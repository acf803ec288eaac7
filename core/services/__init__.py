"""One function per use case. REST, gRPC, workers and the CLI all call these; they own the transaction."""
