#include "client/load/debug_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/json_text.h"

namespace handoff::load {

absl::StatusOr<DebugLog> DebugLog::Open(const std::string& path) {
  auto out = std::make_unique<std::ofstream>(path, std::ios::trunc);
  if (!*out) return absl::InvalidArgumentError(absl::StrCat("--debug: cannot write ", path));
  DebugLog log;
  log.out_ = std::move(out);
  return log;
}

void DebugLog::Log(absl::string_view msg, std::initializer_list<Field> fields) {
  if (out_ == nullptr) return;
  std::string line = absl::StrFormat(R"({"level":"debug","ts":%.6f,"msg":%s)",
                                     absl::ToUnixMicros(absl::Now()) / 1e6, JsonQuoted(msg));
  for (const Field& f : fields) {
    absl::StrAppend(&line, ",", JsonQuoted(f.key), ":",
                    f.raw ? std::string(f.value) : JsonQuoted(f.value));
  }
  line += "}\n";
  *out_ << line;
  out_->flush();
}

}  // namespace handoff::load
