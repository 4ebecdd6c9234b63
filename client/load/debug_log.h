// DebugLog: ghz's --debug PATH, a log of what a run decided and did, for
// finding out why a run went as it did: the plan (method, how it streams,
// templates), the engine and its connections, and the run's end. One JSON
// object a line, as ghz's log is: "level", "ts" (Unix seconds), "msg", and
// the event's fields.
//
// It records decisions, not calls: the report has those.
#ifndef HANDOFF_CLIENT_LOAD_DEBUG_LOG_H_
#define HANDOFF_CLIENT_LOAD_DEBUG_LOG_H_

#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff::load {

class DebugLog {
 public:
  // A field's value: a JSON string, or, with `raw`, JSON text as given (a
  // number, true, false).
  struct Field {
    Field(absl::string_view key, absl::string_view value, bool raw = false)
        : key(key), value(value), raw(raw) {}
    absl::string_view key;
    absl::string_view value;
    bool raw;
  };

  // A log that writes nothing (no --debug).
  DebugLog() = default;

  // Creates or truncates `path`; an error names it.
  static absl::StatusOr<DebugLog> Open(const std::string& path);

  // One line: `msg` and `fields`, flushed, so that a run that is killed
  // leaves what it logged.
  void Log(absl::string_view msg, std::initializer_list<Field> fields = {});

 private:
  std::unique_ptr<std::ofstream> out_;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_DEBUG_LOG_H_
