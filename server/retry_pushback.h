// Copyright 2026 The handoff Authors.
//
// RefuseRetry: tells gRPC's retry on the client not to make a call again
// (gRFC A6's server pushback, `grpc-retry-pushback-ms: -1` in the trailers),
// for an answer another attempt would only repeat, or one given after a job
// with effects has run. A client whose policy retries the answer's code
// would otherwise run the call's jobs up to maxAttempts times.
//
// Call it before Finish, which sends the trailers, and from one thread at a
// time: gRPC does not lock a server context's trailing metadata. Once the
// client has had the call's headers or a reply, gRPC does not retry anyway,
// and the trailer changes nothing.

#ifndef HANDOFF_SERVER_RETRY_PUSHBACK_H_
#define HANDOFF_SERVER_RETRY_PUSHBACK_H_

#include <grpcpp/server_context.h>

namespace handoff {

inline void RefuseRetry(grpc::ServerContextBase& call) {
  call.AddTrailingMetadata("grpc-retry-pushback-ms", "-1");
}

}  // namespace handoff

#endif  // HANDOFF_SERVER_RETRY_PUSHBACK_H_
