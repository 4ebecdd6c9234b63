// Copyright 2026 The handoff Authors.
//
// GatewayService: handoff.v1.Gateway on the gRPC callback API.
//
// Each method validates its request on the gRPC thread (cheap checks only),
// answers UNAVAILABLE while the server drains, and otherwise turns the call
// into one job (Echo, Work, Call), one job per item (Batch) or one job per
// message (Stream) on the shared dispatcher. No method blocks a gRPC thread:
// the waiting is done by AsyncSelect on each call's reply channel and
// Context (unary_call.h, batch_call.h, stream_call.h).

#ifndef HANDOFF_SERVER_GATEWAY_SERVICE_H_
#define HANDOFF_SERVER_GATEWAY_SERVICE_H_

#include "handoff/v1/gateway.grpc.pb.h"
#include "server/gateway_core.h"

namespace handoff {

class GatewayService final : public v1::Gateway::CallbackService {
 public:
  explicit GatewayService(GatewayCore& core) : core_(core) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* call,
                                 const v1::EchoRequest* request,
                                 v1::EchoReply* reply) override;
  grpc::ServerUnaryReactor* Work(grpc::CallbackServerContext* call,
                                 const v1::WorkRequest* request,
                                 v1::WorkReply* reply) override;
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* call,
                                  const v1::BatchRequest* request,
                                  v1::BatchReply* reply) override;
  grpc::ServerBidiReactor<v1::WorkRequest, v1::WorkReply>* Stream(
      grpc::CallbackServerContext* call) override;
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* call,
                                 const v1::CallRequest* request,
                                 v1::CallReply* reply) override;

 private:
  GatewayCore& core_;
};

// The status of a call that arrives while the server drains.
absl::Status DrainingError();

}  // namespace handoff

#endif  // HANDOFF_SERVER_GATEWAY_SERVICE_H_
