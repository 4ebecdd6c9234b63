// BinaryRequests: the messages in -b/-B's bytes, read as ghz reads them.
//
// ghz takes two layouts: one serialized message, or several, each after its
// length as a varint (protobuf's "count-delimited" stream, what Go's
// proto.Buffer.EncodeMessage and C++'s SerializeDelimitedToOstream write).
// It tries the second first, and takes it if every piece parses as the
// request type and the pieces cover the bytes exactly; else the bytes are one
// message. So does this, and without the type (no --proto, --protoset or
// reflection to give it) the bytes are one message, sent as they are.
#ifndef HANDOFF_CLIENT_LOAD_BINARY_REQUESTS_H_
#define HANDOFF_CLIENT_LOAD_BINARY_REQUESTS_H_

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/strings/string_view.h"

namespace handoff::load {

// The serialized requests in `bytes`; `type` may be null (unknown).
std::vector<std::string> BinaryRequests(absl::string_view bytes,
                                        const google::protobuf::Descriptor* type);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_BINARY_REQUESTS_H_
