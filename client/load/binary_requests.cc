#include "client/load/binary_requests.h"

#include <memory>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>

namespace handoff::load {

std::vector<std::string> BinaryRequests(absl::string_view bytes,
                                        const google::protobuf::Descriptor* type) {
  std::vector<std::string> one = {std::string(bytes)};
  if (type == nullptr || bytes.empty()) return one;
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(type)->New());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  std::vector<std::string> pieces;
  while (in.CurrentPosition() < static_cast<int>(bytes.size())) {
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return one;
    const int at = in.CurrentPosition();
    if (length > bytes.size() - static_cast<size_t>(at)) return one;
    std::string piece(bytes.substr(static_cast<size_t>(at), length));
    if (!in.Skip(static_cast<int>(length)) || !message->ParseFromString(piece)) return one;
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

}  // namespace handoff::load
