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

// Every method is raw (ByteBuffer in and out) so that bytes that do not parse
// are INTERNAL, as the status table says; see proto_codec.h.
using GatewayServiceBase = v1::Gateway::WithRawCallbackMethod_Echo<
    v1::Gateway::WithRawCallbackMethod_Work<
        v1::Gateway::WithRawCallbackMethod_Batch<
            v1::Gateway::WithRawCallbackMethod_Call<
                v1::Gateway::WithRawCallbackMethod_Stream<
                    v1::Gateway::Service>>>>>;

class GatewayService final : public GatewayServiceBase {
 public:
  explicit GatewayService(GatewayCore& core) : core_(core) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* call,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* Work(grpc::CallbackServerContext* call,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* call,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* reply) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* call) override;
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* call,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* reply) override;

 private:
  GatewayCore& core_;
};

// The status of a call that arrives while the server drains.
absl::Status DrainingError();

}  // namespace handoff

#endif  // HANDOFF_SERVER_GATEWAY_SERVICE_H_
