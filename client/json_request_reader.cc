#include "client/json_request_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/json_messages.h"
#include "common/read_file.h"

namespace handoff {

JsonRequestReader::JsonRequestReader(int fd, const google::protobuf::Message& prototype,
                                     std::string name)
    : fd_(fd), prototype_(prototype), name_(std::move(name)) {
  if (pipe2(wake_, O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;  // Stop then cannot wake a read
}

JsonRequestReader::~JsonRequestReader() {
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

void JsonRequestReader::Stop() {
  stopped_ = true;
  if (wake_[1] >= 0) {
    const char byte = 0;
    while (write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
  }
}

absl::StatusOr<bool> JsonRequestReader::ReadMore() {
  char buffer[64 * 1024];
  for (;;) {
    if (stopped_) return false;
    // Waits on the wake pipe too, so that a call that is over need not
    // wait for input nobody will send.
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, wake_[0] >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", name_));
    }
    if (stopped_) return false;
    const ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      // One value's text is held until it is whole: the same bound as a
      // file read at once.
      if (text_.size() + static_cast<size_t>(n) > kMaxFileBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot read ", name_, ": a message longer than ", kMaxFileBytes >> 20, " MiB"));
      }
      text_.append(buffer, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR && errno != EAGAIN) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", name_));
    }
  }
}

absl::StatusOr<std::optional<std::string>> JsonRequestReader::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::StatusOr<std::optional<std::string>> JsonRequestReader::Next() {
  if (!error_.ok()) return error_;
  if (array_.has_value()) {
    if (array_next_ == array_->size()) return std::nullopt;
    return std::move((*array_)[array_next_++]);
  }
  const std::string& type = prototype_.GetDescriptor()->full_name();
  const bool array_is_a_message =
      type == "google.protobuf.ListValue" || type == "google.protobuf.Value";
  for (;;) {
    const absl::string_view unread = absl::string_view(text_).substr(unread_from_);
    std::optional<JsonValueSpan> span = FirstJsonValue(unread, at_end_);
    if (span.has_value() && taken_ == 0 && unread[span->begin] == '[' && !array_is_a_message) {
      // An array: its elements are split as JsonToMessages splits one.
      while (!at_end_) {
        absl::StatusOr<bool> more = ReadMore();
        if (!more.ok()) return Fail(more.status());
        if (!*more) {
          if (stopped_) return std::nullopt;
          at_end_ = true;
        }
      }
      absl::StatusOr<std::vector<std::string>> all = JsonToMessages(prototype_, text_);
      if (!all.ok()) return Fail(all.status());
      array_ = *std::move(all);
      text_.clear();
      return Next();
    }
    if (span.has_value()) {
      const absl::string_view value = unread.substr(span->begin, span->end - span->begin);
      // Named by its place, as JsonToMessages names one of several: the
      // first alone only if more has come after it.
      const bool more_follows = !absl::StripAsciiWhitespace(unread.substr(span->end)).empty();
      const size_t number = taken_ == 0 && !more_follows ? 0 : taken_ + 1;
      absl::StatusOr<std::string> message = JsonToOneMessage(prototype_, value, number);
      if (!message.ok()) return Fail(message.status());
      // Not erased from text_ one message at a time: a read's worth of
      // small messages would move the rest of it down once each.
      unread_from_ += span->end;
      ++taken_;
      return std::optional<std::string>(*std::move(message));
    }
    if (at_end_) return std::nullopt;  // only whitespace left
    text_.erase(0, unread_from_);
    unread_from_ = 0;
    absl::StatusOr<bool> more = ReadMore();
    if (!more.ok()) return Fail(more.status());
    if (!*more) {
      if (stopped_) return std::nullopt;
      at_end_ = true;
    }
  }
}

}  // namespace handoff
