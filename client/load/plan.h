// LoadPlan: a load run's options with its method and requests resolved.
#ifndef HANDOFF_CLIENT_LOAD_PLAN_H_
#define HANDOFF_CLIENT_LOAD_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "client/load/options.h"
#include "client/load/templated_requests.h"

namespace handoff::load {

struct LoadPlan {
  LoadOptions options;
  // TLS credentials; null means plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // "/package.Service/Method".
  std::string method;
  // Methods the client streams to send every message on one stream per call
  // (or, with --stream-call-count or --stream-call-duration, as many as
  // those say, round the messages) and read every reply; unary and
  // server-streaming calls send messages[ticket % size].
  // `client_streaming`: the client sends a stream (client or bidirectional
  // streaming), which the stream options shape.
  bool streaming = false;
  bool client_streaming = false;
  // Serialized request messages; at least one, but for a client stream
  // given none (no request data, or an empty -d array), which it closes at
  // once.
  std::vector<grpc::ByteBuffer> messages;
  // The request JSON as read, from -d, -D's file or stdin (-d @); empty for
  // binary requests. The report's data= tag is written from it.
  std::string request_json;
  // Set when the request JSON or a metadata value holds call templates:
  // then each call renders its own (messages holds the first call's), and
  // `types` keeps the request type they are parsed as alive.
  std::shared_ptr<const TemplatedRequests> templates;
  std::shared_ptr<const void> types;
  // The h2 engine's first stream ID on each connection (odd). Tests set it
  // near 2^31 to reach the end of a connection's stream IDs in a few calls,
  // where a run takes about a billion.
  int32_t h2_first_stream_id = 1;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_PLAN_H_
