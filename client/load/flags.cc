#include "client/load/flags.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <functional>
#include <initializer_list>
#include <optional>
#include <thread>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/load/concurrency_schedule.h"
#include "client/load/go_duration.h"
#include "client/load/target.h"
#include "client/metadata.h"
#include "common/read_file.h"

namespace handoff::load {
namespace {

using Setter = std::function<absl::Status(absl::string_view value, LoadOptions&)>;

struct Option {
  absl::string_view short_name;  // without "-", may be empty
  absl::string_view long_name;   // without "--"
  bool takes_value;
  Setter set;
};

absl::Status Bad(absl::string_view flag, absl::string_view want,
                 absl::string_view got) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": want ", want, ", got '", got, "'"));
}

// What ParseArgs hands a switch for its --no- form; a switch given as itself
// gets "".
constexpr absl::string_view kSwitchOff = "--no-";

// A flag without a value: sets `field`, or, as --no-NAME, clears it.
Setter Switch(bool LoadOptions::*field) {
  return [field](absl::string_view v, LoadOptions& o) {
    o.*field = v != kSwitchOff;
    return absl::OkStatus();
  };
}

// A count of zero or more.
Setter Count(int64_t LoadOptions::*field, absl::string_view flag) {
  return [field, flag](absl::string_view v, LoadOptions& o) -> absl::Status {
    int64_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < 0) return Bad(flag, "a count >= 0", v);
    o.*field = n;
    return absl::OkStatus();
  };
}

Setter PositiveInt(int LoadOptions::*field, absl::string_view flag) {
  return [field, flag](absl::string_view v, LoadOptions& o) -> absl::Status {
    int n = 0;
    if (!absl::SimpleAtoi(v, &n) || n <= 0) {
      return Bad(flag, "a positive integer", v);
    }
    o.*field = n;
    return absl::OkStatus();
  };
}

// ghz's --cpus and --connections: 0 is "not given", which leaves the
// option at its default (ghz's WithCPUs and WithConnections ignore a 0), so
// a ghz config that spells out "cpus": 0 runs here too.
Setter PositiveIntOrDefault(int LoadOptions::*field, absl::string_view flag,
                            int default_value) {
  return [field, flag, default_value](absl::string_view v, LoadOptions& o) -> absl::Status {
    int n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < 0) {
      return Bad(flag, "a positive integer (0: the default)", v);
    }
    o.*field = n == 0 ? default_value : n;
    return absl::OkStatus();
  };
}

// ghz's sizes (go-humanize's): a number, then optionally B, an SI unit (k,
// kB: 1000) or an IEC one (Ki, KiB: 1024), up to T; any case, a space
// allowed between. gRPC takes the limit as an int.
Setter ByteSize(int LoadOptions::*field, absl::string_view flag) {
  return [field, flag](absl::string_view v, LoadOptions& o) -> absl::Status {
    const std::string text = absl::AsciiStrToLower(absl::StripAsciiWhitespace(v));
    const size_t unit_at = text.find_first_not_of("0123456789.");
    double number = 0;
    if (!absl::SimpleAtod(text.substr(0, unit_at), &number) || number < 0) {
      return Bad(flag, "a size like 4194304, 4 MB or 4 MiB", v);
    }
    const absl::string_view unit =
        unit_at == std::string::npos
            ? absl::string_view()
            : absl::StripLeadingAsciiWhitespace(absl::string_view(text).substr(unit_at));
    static constexpr struct {
      absl::string_view si, iec;
    } kUnits[] = {{"k", "ki"}, {"m", "mi"}, {"g", "gi"}, {"t", "ti"}};
    double scale = 0;
    if (unit.empty() || unit == "b") scale = 1;
    double si = 1, iec = 1;
    for (const auto& u : kUnits) {
      si *= 1000;
      iec *= 1024;
      if (unit == u.si || unit == absl::StrCat(u.si, "b")) scale = si;
      if (unit == u.iec || unit == absl::StrCat(u.iec, "b")) scale = iec;
    }
    if (scale == 0) return Bad(flag, "a size like 4194304, 4 MB or 4 MiB", v);
    const double bytes = number * scale;
    if (bytes > std::numeric_limits<int>::max()) {
      return Bad(flag, "a size up to 2147483647 bytes (gRPC's largest)", v);
    }
    o.*field = static_cast<int>(bytes);
    return absl::OkStatus();
  };
}

absl::Status SetLbStrategy(absl::string_view v, LoadOptions& o) {
  if (v != "pick_first" && v != "round_robin") {
    return Bad("--lb-strategy", "pick_first or round_robin", v);
  }
  o.lb_strategy = std::string(v);
  return absl::OkStatus();
}

Setter DurationField(absl::Duration LoadOptions::*field, absl::string_view flag) {
  return [field, flag](absl::string_view v, LoadOptions& o) -> absl::Status {
    auto d = ParseGoDuration(v);
    if (!d.ok() && d.status().code() == absl::StatusCode::kOutOfRange) {
      return Bad(flag, "a duration up to 2562047h (Go's longest)", v);
    }
    if (!d.ok()) return Bad(flag, "a duration like 500ms or 10s", v);
    o.*field = *d;
    return absl::OkStatus();
  };
}

// "a,b" on the command line; a JSON array of strings in a --config file.
absl::Status SetImportPaths(absl::string_view v, LoadOptions& o) {
  o.import_paths.clear();
  if (absl::StartsWith(v, "[")) {
    google::protobuf::ListValue list;
    if (!google::protobuf::util::JsonStringToMessage(std::string(v), &list).ok()) {
      return Bad("-i", "paths separated by commas, or a JSON array of them", v);
    }
    for (const google::protobuf::Value& path : list.values()) {
      if (path.kind_case() != google::protobuf::Value::kStringValue) {
        return Bad("-i", "paths separated by commas, or a JSON array of them", v);
      }
      o.import_paths.push_back(path.string_value());
    }
    return absl::OkStatus();
  }
  for (absl::string_view path : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    o.import_paths.emplace_back(path);
  }
  return absl::OkStatus();
}

Setter StringField(std::string LoadOptions::*field) {
  return [field](absl::string_view v, LoadOptions& o) {
    o.*field = std::string(v);
    return absl::OkStatus();
  };
}

// A JSON object of strings, as -m and --tags take it. Replaces what an
// earlier one (a --config file's, say) gave.
absl::Status SetStringMap(absl::string_view flag, absl::string_view v, bool lower_case_keys,
                          std::vector<std::pair<std::string, std::string>>& out) {
  google::protobuf::Struct object;
  if (!google::protobuf::util::JsonStringToMessage(std::string(v), &object).ok()) {
    return Bad(flag, R"(a JSON object of strings like {"key":"value"})", v);
  }
  out.clear();
  for (const auto& [key, value] : object.fields()) {
    if (value.kind_case() != google::protobuf::Value::kStringValue) {
      return Bad(flag, R"(a JSON object of strings like {"key":"value"})", v);
    }
    out.emplace_back(lower_case_keys ? absl::AsciiStrToLower(key) : key, value.string_value());
  }
  // In key order: a JSON object's has no meaning, and protobuf's map none
  // that stays the same from run to run.
  std::sort(out.begin(), out.end());
  return absl::OkStatus();
}

// Request headers, which gRPC must be able to send (client/metadata.h:
// given one it cannot, gRPC C++ aborts the process).
absl::Status SetHeaders(absl::string_view flag, absl::string_view v,
                        std::vector<std::pair<std::string, std::string>>& out) {
  auto headers = MetadataFromJson(v);
  if (!headers.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", headers.status().message()));
  }
  out = *std::move(headers);
  return absl::OkStatus();
}

absl::Status SetMetadata(absl::string_view v, LoadOptions& o) {
  o.metadata_set = true;
  if (absl::Status s = SetHeaders("-m", v, o.metadata); !s.ok()) return s;
  return SetStringMap("-m", v, /*lower_case_keys=*/false, o.metadata_as_given);
}

absl::Status SetTags(absl::string_view v, LoadOptions& o) {
  return SetStringMap("--tags", v, /*lower_case_keys=*/false, o.tags);
}

// --load-schedule and --concurrency-schedule.
Setter Schedule(LoadSchedule LoadOptions::*field, absl::string_view flag) {
  return [field, flag](absl::string_view v, LoadOptions& o) -> absl::Status {
    if (v == "const") {
      o.*field = LoadSchedule::kConst;
    } else if (v == "step") {
      o.*field = LoadSchedule::kStep;
    } else if (v == "line") {
      o.*field = LoadSchedule::kLine;
    } else {
      return Bad(flag, "const, step or line", v);
    }
    return absl::OkStatus();
  };
}

// A whole number of slots; `negative_ok` for --concurrency-step.
Setter Slots(int LoadOptions::*field, absl::string_view flag, bool negative_ok) {
  return [field, flag, negative_ok](absl::string_view v, LoadOptions& o) -> absl::Status {
    int n = 0;
    if (!absl::SimpleAtoi(v, &n) || (!negative_ok && n < 0)) {
      return Bad(flag, negative_ok ? "a whole number" : "a whole number >= 0", v);
    }
    o.*field = n;
    return absl::OkStatus();
  };
}

// A finite number of calls per second; `negative_ok` for --load-step.
Setter Rate(double LoadOptions::*field, absl::string_view flag, bool negative_ok) {
  return [field, flag, negative_ok](absl::string_view v, LoadOptions& o) -> absl::Status {
    double rate = 0;
    if (!absl::SimpleAtod(v, &rate) || !std::isfinite(rate) || (!negative_ok && rate < 0)) {
      return Bad(flag, negative_ok ? "a rate in calls/s" : "a rate >= 0 in calls/s", v);
    }
    o.*field = rate;
    return absl::OkStatus();
  };
}

absl::Status SetFormat(absl::string_view v, LoadOptions& o) {
  if (v == "summary") {
    o.format = OutputFormat::kSummary;
  } else if (v == "json") {
    o.format = OutputFormat::kJson;
  } else if (v == "pretty") {
    o.format = OutputFormat::kPrettyJson;
  } else if (v == "csv") {
    o.format = OutputFormat::kCsv;
  } else if (v == "influx-summary") {
    o.format = OutputFormat::kInfluxSummary;
  } else if (v == "influx-details") {
    o.format = OutputFormat::kInfluxDetails;
  } else if (v == "prometheus") {
    o.format = OutputFormat::kPrometheus;
  } else if (v == "html") {
    o.format = OutputFormat::kHtml;
  } else {
    return Bad("-O", "summary, json, pretty, csv, html, influx-summary, influx-details or "
               "prometheus", v);
  }
  return absl::OkStatus();
}

absl::Status SetEngine(absl::string_view v, LoadOptions& o) {
  if (v == "auto") {
    o.engine = EngineKind::kAuto;
  } else if (v == "grpc") {
    o.engine = EngineKind::kGrpc;
  } else if (v == "h2") {
    o.engine = EngineKind::kH2;
  } else {
    return Bad("--engine", "auto, grpc or h2", v);
  }
  return absl::OkStatus();
}

absl::Status SetDurationStop(absl::string_view v, LoadOptions& o) {
  if (v == "close") {
    o.duration_stop = DurationStop::kClose;
  } else if (v == "wait") {
    o.duration_stop = DurationStop::kWait;
  } else if (v == "ignore") {
    o.duration_stop = DurationStop::kIgnore;
  } else {
    return Bad("--duration-stop", "close, wait or ignore", v);
  }
  return absl::OkStatus();
}

const std::vector<Option>& Options() {
  static const auto* options = new std::vector<Option>{
      {"c", "concurrency", true, PositiveInt(&LoadOptions::concurrency, "-c")},
      {"n", "total", true,
       [](absl::string_view v, LoadOptions& o) -> absl::Status {
         int64_t n = 0;
         if (!absl::SimpleAtoi(v, &n) || n <= 0) {
           return Bad("-n", "a positive integer", v);
         }
         o.total = n;
         o.total_set = true;
         return absl::OkStatus();
       }},
      {"z", "duration", true, DurationField(&LoadOptions::duration, "-z")},
      {"x", "max-duration", true, DurationField(&LoadOptions::max_duration, "-x")},
      {"", "duration-stop", true, SetDurationStop},
      {"r", "rps", true, Rate(&LoadOptions::rps, "--rps", false)},
      {"", "async", false, Switch(&LoadOptions::async)},
      {"", "load-schedule", true, Schedule(&LoadOptions::load_schedule, "--load-schedule")},
      {"", "load-start", true, Rate(&LoadOptions::load_start, "--load-start", false)},
      {"", "load-step", true, Rate(&LoadOptions::load_step, "--load-step", true)},
      {"", "load-end", true, Rate(&LoadOptions::load_end, "--load-end", false)},
      {"", "load-step-duration", true,
       DurationField(&LoadOptions::load_step_duration, "--load-step-duration")},
      {"", "load-max-duration", true,
       DurationField(&LoadOptions::load_max_duration, "--load-max-duration")},
      {"", "concurrency-schedule", true,
       Schedule(&LoadOptions::concurrency_schedule, "--concurrency-schedule")},
      {"", "concurrency-start", true,
       Slots(&LoadOptions::concurrency_start, "--concurrency-start", false)},
      {"", "concurrency-step", true,
       Slots(&LoadOptions::concurrency_step, "--concurrency-step", true)},
      {"", "concurrency-end", true,
       Slots(&LoadOptions::concurrency_end, "--concurrency-end", false)},
      {"", "concurrency-step-duration", true,
       DurationField(&LoadOptions::concurrency_step_duration, "--concurrency-step-duration")},
      {"", "concurrency-max-duration", true,
       DurationField(&LoadOptions::concurrency_max_duration, "--concurrency-max-duration")},
      {"", "connections", true,
       PositiveIntOrDefault(&LoadOptions::connections, "--connections", LoadOptions{}.connections)},
      {"t", "timeout", true, DurationField(&LoadOptions::timeout, "-t")},
      {"", "connect-timeout", true,
       DurationField(&LoadOptions::connect_timeout, "--connect-timeout")},
      {"", "call", true, StringField(&LoadOptions::call)},
      {"", "proto", true, StringField(&LoadOptions::proto)},
      {"", "protoset", true, StringField(&LoadOptions::protoset)},
      {"i", "import-paths", true, SetImportPaths},
      {"d", "data", true, StringField(&LoadOptions::data)},
      {"D", "data-file", true, StringField(&LoadOptions::data_file)},
      {"b", "binary", false, Switch(&LoadOptions::binary)},
      {"B", "binary-file", true, StringField(&LoadOptions::binary_file)},
      {"m", "metadata", true, SetMetadata},
      {"M", "metadata-file", true, StringField(&LoadOptions::metadata_file)},
      {"", "reflect-metadata", true,
       [](absl::string_view v, LoadOptions& o) {
         return SetHeaders("--reflect-metadata", v, o.reflect_metadata);
       }},
      {"", "disable-template-data", false, Switch(&LoadOptions::disable_template_data)},
      {"", "disable-template-functions", false,
       Switch(&LoadOptions::disable_template_functions)},
      {"", "max-recv-message-size", true,
       ByteSize(&LoadOptions::max_recv_message_size, "--max-recv-message-size")},
      {"", "max-send-message-size", true,
       ByteSize(&LoadOptions::max_send_message_size, "--max-send-message-size")},
      {"", "keepalive", true, DurationField(&LoadOptions::keepalive, "--keepalive")},
      {"", "lb-strategy", true, SetLbStrategy},
      {"", "authority", true, StringField(&LoadOptions::authority)},
      {"", "cname", true, StringField(&LoadOptions::cname)},
      {"e", "enable-compression", false, Switch(&LoadOptions::enable_compression)},
      {"", "insecure", false, Switch(&LoadOptions::insecure)},
      {"", "cacert", true, StringField(&LoadOptions::cacert)},
      {"", "cert", true, StringField(&LoadOptions::cert)},
      {"", "key", true, StringField(&LoadOptions::key)},
      {"", "skipTLS", false, Switch(&LoadOptions::skip_tls)},
      {"O", "format", true, SetFormat},
      {"o", "output", true, StringField(&LoadOptions::output)},
      {"", "name", true, StringField(&LoadOptions::name)},
      {"", "tags", true, SetTags},
      {"", "cpus", true, PositiveIntOrDefault(&LoadOptions::cpus, "--cpus", LoadOptions{}.cpus)},
      {"", "stream-call-count", true,
       Count(&LoadOptions::stream_call_count, "--stream-call-count")},
      {"", "stream-interval", true,
       DurationField(&LoadOptions::stream_interval, "--stream-interval")},
      {"", "stream-call-duration", true,
       DurationField(&LoadOptions::stream_call_duration, "--stream-call-duration")},
      {"", "stream-dynamic-messages", false, Switch(&LoadOptions::stream_dynamic_messages)},
      {"", "skipFirst", true, Count(&LoadOptions::skip_first, "--skipFirst")},
      {"", "count-errors", false, Switch(&LoadOptions::count_errors)},
      {"", "engine", true, SetEngine},
      {"", "config", true,
       [](absl::string_view, LoadOptions&) { return absl::OkStatus(); }},
      {"h", "help", false, Switch(&LoadOptions::help)},
      {"v", "version", false, Switch(&LoadOptions::version)},
      {"", "debug", true, StringField(&LoadOptions::debug)},
  };
  return *options;
}

const Option* Find(absl::string_view name, bool is_long) {
  for (const Option& option : Options()) {
    if (is_long ? option.long_name == name
                : !option.short_name.empty() && option.short_name == name) {
      return &option;
    }
  }
  return nullptr;
}

// One option argument as written, "-c10", "--rps=5", "--no-async", split.
struct OptionArg {
  bool is_long = false;
  absl::string_view name;                  // without dashes and value
  std::optional<absl::string_view> value;  // given in the argument itself
  const Option* option = nullptr;          // nullptr: no option of load's
  bool negated = false;                    // --no-NAME of a switch
};

// `arg` starts with '-' and is longer than it.
OptionArg SplitOptionArg(absl::string_view arg) {
  OptionArg out;
  // "--name" is a long option, "-x" a short one.
  out.is_long = absl::ConsumePrefix(&arg, "--");
  if (!out.is_long) absl::ConsumePrefix(&arg, "-");
  out.name = arg;
  if (!out.is_long && arg.size() > 1) {
    // A short option is one letter; what follows it in the argument is
    // its value, as ghz's parser (kingpin) and getopt read -c10 -z10s,
    // or, after '=', -c=10. A JSON value may hold a '=' of its own.
    out.name = arg.substr(0, 1);
    out.value = arg.substr(arg[1] == '=' ? 2 : 1);
  } else if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
    out.name = arg.substr(0, eq);
    out.value = arg.substr(eq + 1);
  }
  out.option = Find(out.name, out.is_long);
  // kingpin, ghz's parser, takes --no-NAME for each switch NAME and turns
  // it off (over a --config file's, say); no other option has the form.
  if (out.option == nullptr && out.is_long && absl::StartsWith(out.name, "no-")) {
    const Option* negatable = Find(out.name.substr(3), /*is_long=*/true);
    if (negatable != nullptr && !negatable->takes_value) {
      out.option = negatable;
      out.negated = true;
    }
  }
  return out;
}

absl::Status ValidateLoadSchedule(const LoadOptions& o) {
  if (o.load_schedule == LoadSchedule::kConst) {
    if (o.load_start != 0 || o.load_step != 0 || o.load_end != 0 ||
        o.load_step_duration != absl::ZeroDuration() ||
        o.load_max_duration != absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "--load-start, --load-step, --load-end, --load-step-duration and "
          "--load-max-duration shape --load-schedule=step or line");
    }
    return absl::OkStatus();
  }
  const std::string flag = absl::StrCat(
      "--load-schedule=", o.load_schedule == LoadSchedule::kStep ? "step" : "line");
  if (o.rps > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " takes no --rps: its rate starts at --load-start"));
  }
  if (!(o.load_start > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs --load-start above 0"));
  }
  if (o.load_step == 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs a --load-step other than 0"));
  }
  if (o.load_schedule == LoadSchedule::kStep && o.load_step_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs --load-step-duration"));
  }
  if (o.load_step < 0 && !(o.load_end > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": a negative --load-step needs --load-end above 0, where the rate stops"));
  }
  if (o.load_end > 0 && (o.load_step > 0 ? o.load_end < o.load_start
                                         : o.load_end > o.load_start)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": --load-end ", o.load_end, " is behind --load-start ", o.load_start,
        " for a --load-step of ", o.load_step));
  }
  return absl::OkStatus();
}

absl::Status Validate(LoadOptions& o) {
  if (o.host.empty()) {
    return absl::InvalidArgumentError("missing HOST:PORT to load");
  }
  if (absl::Status s = CheckTargetPort(o.host); !s.ok()) return s;
  if (o.call.empty()) {
    return absl::InvalidArgumentError(
        "--call: required, e.g. --call handoff.v1.Gateway.Echo");
  }
  int sources = !o.data.empty() + !o.data_file.empty() + o.binary +
                !o.binary_file.empty();
  if (sources > 1) {
    return absl::InvalidArgumentError(
        "-d, -D, -b and -B are exclusive: give the request one way");
  }
  if (!o.metadata_file.empty()) {
    if (o.metadata_set) {
      return absl::InvalidArgumentError("-m and -M are exclusive: give the metadata one way");
    }
    const absl::StatusOr<std::string> json = ReadFile(o.metadata_file);
    if (!json.ok()) return absl::InvalidArgumentError(absl::StrCat("-M: ", json.status().message()));
    if (!SetStringMap("-M", *json, /*lower_case_keys=*/true, o.metadata).ok() ||
        !SetStringMap("-M", *json, /*lower_case_keys=*/false, o.metadata_as_given).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "-M: ", o.metadata_file, R"( is not a JSON object of strings like {"key":"value"})"));
    }
    // Read, even as {}: the report writes it, as ghz's does.
    o.metadata_set = true;
    if (absl::Status s = ValidateMetadata(o.metadata); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("-M: ", o.metadata_file, ": ", s.message()));
    }
  }
  // Both given, -x takes -z's place, as ghz's config has it (`if X > 0 { Z
  // = X }`); a run with a -z ignores -n, there as here.
  if (o.duration > absl::ZeroDuration() && o.max_duration > absl::ZeroDuration()) {
    o.duration = o.max_duration;
  }
  if (absl::Status s = ValidateLoadSchedule(o); !s.ok()) return s;
  auto slots = ConcurrencySchedule::Make(o);
  if (!slots.ok()) return slots.status();
  // Against -c as given, whatever the schedule, as ghz checks it (`nConns >
  // c`, before a schedule's workers are known): a peak below the
  // connections leaves some idle, and one above -c does not let more in.
  if (o.connections > o.concurrency) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--connections (", o.connections, ") cannot exceed -c (",
        o.concurrency, ")"));
  }
  const bool scheduled = o.concurrency_schedule != LoadSchedule::kConst;
  // As in ghz, -c is for the const schedule; another has its own peak. The
  // report still writes -c as given, as ghz's does.
  if (scheduled) {
    o.concurrency_given = o.concurrency;
    o.concurrency = slots->slots();
  }
  // Each call in flight is a slot of client state, allocated before the
  // first call: a mistyped -c ran out of memory instead of making calls.
  if (o.concurrency > ConcurrencySchedule::kMaxSlots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "-c: ", o.concurrency, " is over the ", ConcurrencySchedule::kMaxSlots,
        " calls a run may have in flight"));
  }
  // ghz's rule; with -z, -n is ignored, and the run has no count to compare.
  if (o.skip_first > o.total && o.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--skipFirst: cannot skip ", o.skip_first, " calls of a run of ", o.total,
        " (-n)"));
  }
  if (o.cpus == 0) {
    // A server on this machine's loopback shares its cores with the
    // generator: every core the generator spins up is one the server loses,
    // and on two cores the second client thread cost more CPU per call than
    // it gave (docs/PERF.md, issue 4). Half the cores are left to the server.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o.cpus = IsLoopbackTarget(o.host) ? std::max(1, cores / 2) : cores;
  }
  return absl::OkStatus();
}

// A ghz --config file as the equivalent command-line arguments, so the
// file and the flags share one parser and one set of checks. Keys are ghz's
// long option names; "host" is the positional address.
absl::StatusOr<std::vector<std::string>> ConfigArgs(const std::string& path) {
  // ghz reads a config as TOML or YAML by its extension. Parsed as JSON, such
  // a file failed with "Unexpected token", which did not say why.
  const std::string lower = absl::AsciiStrToLower(path);
  for (const absl::string_view extension : {".toml", ".yaml", ".yml"}) {
    if (absl::EndsWith(lower, extension)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--config ", path, ": handoff load reads JSON config files only, not ghz's ",
          extension == ".toml" ? "TOML" : "YAML", " (the same keys, as one JSON object)"));
    }
  }
  const absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("--config: ", text.status().message()));
  }
  google::protobuf::Struct config;
  if (auto s = google::protobuf::util::JsonStringToMessage(*text, &config); !s.ok()) {
    const std::string why(s.message().data(), s.message().size());
    return absl::InvalidArgumentError(absl::StrCat(
        "--config ", path, ": not a JSON object: ", why.substr(0, why.find('\n'))));
  }
  std::vector<std::string> args;
  std::string host;
  for (const auto& [key, value] : config.fields()) {
    std::string text_value;
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        text_value = value.string_value();
        break;
      case google::protobuf::Value::kNumberValue:
        text_value = absl::StrFormat("%.15g", value.number_value());
        break;
      case google::protobuf::Value::kBoolValue:
        if (!value.bool_value()) continue;  // a false switch is no switch
        break;
      case google::protobuf::Value::kStructValue:
      case google::protobuf::Value::kListValue:
        // data and metadata: pass the JSON through.
        if (!google::protobuf::util::MessageToJsonString(value, &text_value).ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--config ", path, ": cannot re-encode '", key, "'"));
        }
        break;
      default:
        continue;
    }
    if (key == "host") {
      host = text_value;
      continue;
    }
    const Option* option = Find(key, /*is_long=*/true);
    if (option == nullptr || key == "config") {
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", path, ": unsupported key '", key, "'"));
    }
    args.push_back(absl::StrCat("--", key));
    if (option->takes_value) args.push_back(text_value);
  }
  if (!host.empty()) args.push_back(host);
  return args;
}

absl::StatusOr<LoadOptions> ParseArgs(const std::vector<absl::string_view>& args,
                                      LoadOptions o, bool host_from_config) {
  // The request and the metadata can each be given several ways, which are
  // exclusive within one source (Validate) but not across them: the first
  // of them on the command line drops what a --config file gave.
  bool request_given = false;
  bool metadata_given = false;
  auto one_of = [](absl::string_view name, std::initializer_list<absl::string_view> names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      // A positional host replaces one from --config, once.
      if (!o.host.empty() && !host_from_config) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected argument '", arg, "' (the host is '", o.host, "')"));
      }
      o.host = std::string(arg);
      host_from_config = false;
      continue;
    }
    const OptionArg split = SplitOptionArg(arg);
    const Option* option = split.option;
    const bool negated = split.negated;
    std::optional<absl::string_view> value = split.value;
    if (option == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", args[i], "'"));
    }
    if (!option->takes_value) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(args[i], ": takes no value"));
      }
      value = negated ? kSwitchOff : "";
    } else if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(args[i], ": missing value"));
      }
      value = args[++i];
    }
    if (option->long_name == "config") continue;  // applied first, below
    // --no-binary gives no request: it leaves the file's in place.
    if (!request_given && !negated &&
        one_of(option->long_name, {"data", "data-file", "binary", "binary-file"})) {
      request_given = true;
      o.data.clear();
      o.data_file.clear();
      o.binary = false;
      o.binary_file.clear();
    }
    if (!metadata_given && one_of(option->long_name, {"metadata", "metadata-file"})) {
      metadata_given = true;
      o.metadata.clear();
      o.metadata_as_given.clear();
      o.metadata_set = false;
      o.metadata_file.clear();
    }
    if (absl::Status s = option->set(*value, o); !s.ok()) return s;
  }
  return o;
}

}  // namespace

std::optional<LoadFlag> FindLoadFlag(absl::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::nullopt;
  const OptionArg split = SplitOptionArg(arg);
  if (split.option == nullptr) return std::nullopt;
  LoadFlag flag;
  flag.name = absl::StrCat(split.is_long ? "--" : "-", split.name);
  flag.value_follows = split.option->takes_value && !split.value.has_value();
  flag.asks_usage = split.option->long_name == "help" || split.option->long_name == "version";
  return flag;
}

absl::StatusOr<LoadOptions> ParseLoadFlags(const std::vector<absl::string_view>& args) {
  // --config goes first, so the command line overrides the file (the host
  // too: a positional host replaces the file's).
  LoadOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view path;
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[i + 1];
    } else if (absl::StartsWith(args[i], "--config=")) {
      path = args[i].substr(9);
    } else {
      continue;
    }
    auto config = ConfigArgs(std::string(path));
    if (!config.ok()) return config.status();
    std::vector<absl::string_view> config_args(config->begin(), config->end());
    auto from_file = ParseArgs(config_args, o, /*host_from_config=*/false);
    if (!from_file.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", path, ": ", from_file.status().message()));
    }
    o = *std::move(from_file);
  }
  const bool host_from_config = !o.host.empty();
  auto parsed = ParseArgs(args, std::move(o), host_from_config);
  if (!parsed.ok() || parsed->help || parsed->version) return parsed;
  if (absl::Status s = Validate(*parsed); !s.ok()) return s;
  return parsed;
}

std::string LoadUsage() {
  return R"(Usage: handoff load [options] HOST:PORT

Drives gRPC load at HOST:PORT and reports like ghz (same flags, same report).

  --call NAME            method to call: package.Service.Method (required)
      --proto PATH       type JSON requests from this .proto file instead
                         of the server's reflection
  -i, --import-paths P   where its imports are, comma-separated (its own
                         directory and the working directory are searched
                         too)
      --protoset PATH    type them from a FileDescriptorSet (protoc
                         --include_imports --descriptor_set_out)
  -c, --concurrency N    calls in flight at once (default 50)
  -n, --total N          calls to make (default 200; ignored with -z)
  -z, --duration D       run for D (e.g. 10s) instead of -n calls
  -x, --max-duration D   make -n calls, but stop at D if they are not done
                         (with -z: run for D, as ghz does)
      --duration-stop M  calls in flight when -z ends: close (cancel, count as
                         errors; default), wait (let finish), ignore (drop)
  -r, --rps R            start R calls per second in total (default: no limit);
                         latency counts from each call's scheduled start
      --async            make each call when it is due, whether or not
                         earlier ones are back (an open loop); without a
                         rate, every call is due at once, as in ghz
      --load-schedule S  const (default: --rps throughout), step or line
      --load-start R     step and line: the first rate, in calls/s
      --load-step R      the rate added (or, negative, taken) at each step
      --load-end R       the rate at which it stops changing (optional for
                         a rising ramp)
      --load-step-duration D  step: how long each step lasts (line: 1s)
      --load-max-duration D   after D, go to --load-end (if given) or to
                         the rate of a step beginning then, and stay
      --concurrency-schedule S  const (default: -c throughout), step or line
      --concurrency-start N  step and line: the slots at first (-c is then
                         the schedule's peak)
      --concurrency-step N   slots added (or, negative, taken) at each step
                         (default 1)
      --concurrency-end N    where the count stops changing
      --concurrency-step-duration D  step: how long each step lasts (line: 1s)
      --concurrency-max-duration D   after D, go to --concurrency-end (if
                         given) at the next step, and stay
      --connections N    HTTP/2 connections, shared round-robin (default 1;
                         0: the default, as in ghz)
  -t, --timeout D        per-call deadline (default 20s; 0: none)
      --connect-timeout D  time to connect (default 10s)
  -d, --data JSON        request as JSON (object, or array: round-robin for
                         unary calls, all messages per call for streams)
  -D, --data-file PATH   the JSON from a file
  -b, --binary           request as serialized protobuf, read from stdin
  -B, --binary-file PATH request as serialized protobuf from a file
  -m, --metadata JSON    request headers as a JSON object of strings
  -M, --metadata-file PATH  the -m JSON from a file
      --reflect-metadata JSON  headers for the server reflection call alone
      --disable-template-data  send -d and -m as given, with no call templates
      --disable-template-functions  templates without newUUID, randomString
                         and randomInt
      --authority NAME   the :authority of every call (default: HOST:PORT)
      --cname NAME       check the server's TLS certificate against NAME
  -e, --enable-compression  gzip every request message
      --insecure         plaintext (default is TLS, as in ghz)
      --cacert PATH      PEM root certificates for TLS
      --cert PATH        PEM client certificate, for mutual TLS (with --key)
      --key PATH         PEM private key of --cert
      --skipTLS          accept any certificate from the server (one that
                         is self-signed, under test)
      --max-recv-message-size S  largest reply message (4194304, 4 MB, 4 MiB;
                         default: no limit)
      --max-send-message-size S  largest request message (default: no limit)
      --keepalive D      ping a connection idle for D (default: never)
      --lb-strategy P    pick_first or round_robin over HOST's addresses
  -O, --format F         summary (default), json, pretty, csv, html,
                         influx-summary, influx-details or prometheus
      --stream-call-count N     streaming calls: send N messages a call, round
                                the -d array (default: each message once)
      --stream-interval D       wait D between two sends of a call
      --stream-call-duration D  stop sending D after a call began
      --stream-dynamic-messages  render call templates for every message
                                sent, not once per call
      --skipFirst N      leave the first N calls to finish out of the report
                         (warm-up)
      --count-errors     fastest, slowest, histogram and percentiles over
                         every call; by default, as in ghz, over the OK ones
                         only (the average, as ghz's, is always every call's)
  -o, --output PATH      write the report to PATH
      --name NAME        a name recorded in the JSON report
      --tags JSON        a JSON object of strings recorded there too
      --cpus N           client threads (default, or 0: all cores; half of them
                         when HOST is this machine's, which the server shares;
                         the h2 engine runs at most one per --connections)
      --engine E         what makes the calls: h2 (nghttp2; unary calls over
                         plaintext), grpc (gRPC C++; anything), or auto
                         (default: h2 when it can, else grpc)
      --config PATH      a ghz JSON config file (keys: ghz's long option
                         names, and "host"; not TOML or YAML); command-line
                         flags override it
      --debug PATH       log what the run decides and does, as JSON lines
  -v, --version          handoff load's version
  -h, --help             this text

A switch is turned off by --no- before its name (--no-insecure), as in ghz.

JSON requests are encoded with the method's types, fetched from the server
by reflection (or read from --proto or --protoset). The request JSON and
the metadata values may hold ghz's call templates, rendered for every call:
{{.RequestNumber}}, {{.WorkerID}}, {{.Timestamp}}, {{.TimestampUnix}},
{{.TimestampUnixMilli}}, {{.TimestampUnixNano}}, {{.UUID}}, the method's
{{.FullyQualifiedName}}, {{.MethodName}}, {{.ServiceName}}, {{.InputName}},
{{.OutputName}}, {{.IsClientStreaming}} and {{.IsServerStreaming}}, and the
functions {{newUUID}}, {{randomString N}} and {{randomInt MIN MAX}}.
Durations in the JSON report are nanoseconds, as ghz writes.

Ctrl-C (or SIGTERM) ends the run early and still prints the report of the
calls made so far, endReason "cancel"; a second one quits at once.
)";
}

}  // namespace handoff::load
