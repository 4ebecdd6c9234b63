// Copyright 2026 The handoff Authors.
//
// UnknownMethodService: the answer to a call of a method this server does not
// serve. Left to itself, gRPC answers such a call UNIMPLEMENTED before any
// handler sees it, with no message and nothing counted. Registered as the
// server's generic service (which gRPC consults only for methods no service
// registered), this answers it UNIMPLEMENTED with a message naming the
// method and what the server does serve, and counts it as any call is:
// in handoff_calls_in_flight until gRPC is done with it, then in
// handoff_calls_total{method="unknown"} and, with its time from arrival,
// in handoff_call_duration_seconds{method="unknown"}.

#ifndef HANDOFF_SERVER_UNKNOWN_METHOD_H_
#define HANDOFF_SERVER_UNKNOWN_METHOD_H_

#include "grpcpp/generic/async_generic_service.h"
#include "server/gateway_core.h"

namespace handoff {

class UnknownMethodService final : public grpc::CallbackGenericService {
 public:
  explicit UnknownMethodService(GatewayCore& core) : core_(core) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* call) override;

 private:
  GatewayCore& core_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_UNKNOWN_METHOD_H_
