// LoadOptions: what `handoff load` was asked to do, with ghz's defaults.
#ifndef HANDOFF_CLIENT_LOAD_OPTIONS_H_
#define HANDOFF_CLIENT_LOAD_OPTIONS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace handoff::load {

enum class OutputFormat {
  kSummary,
  kJson,
  kPrettyJson,
  kCsv,
  kHtml,
  kInfluxSummary,
  kInfluxDetails,
  kPrometheus,
};

// How a -z (or -x) run ends for calls still in flight when the time is up
// (ghz's --duration-stop): kClose cancels them and counts them as errors, kWait
// lets them finish and counts them, kIgnore cancels them and drops them.
enum class DurationStop { kClose, kWait, kIgnore };

// How --rps changes over a run (ghz's --load-schedule; rate_schedule.h).
enum class LoadSchedule { kConst, kStep, kLine };

// What makes the calls (--engine; see engine.h). kAuto takes kH2 whenever it
// can make the run's calls, kGrpc otherwise.
enum class EngineKind { kAuto, kGrpc, kH2 };

struct LoadOptions {
  std::string host;              // positional HOST:PORT
  std::string call;              // --call, "pkg.Service.Method" or ".../Method"
  // Where JSON requests get their types: --proto (with -i/--import-paths),
  // else --protoset, else the server's reflection.
  std::string proto;
  std::vector<std::string> import_paths;
  std::string protoset;
  int concurrency = 50;          // -c: calls in flight at once
  // How the number of call slots changes over a run (ghz's
  // --concurrency-schedule; concurrency_schedule.h). With step or line, -c
  // is the schedule's peak, which Validate computes.
  LoadSchedule concurrency_schedule = LoadSchedule::kConst;
  int concurrency_start = 0;     // --concurrency-start: slots at first
  int concurrency_step = 1;      // --concurrency-step: added (< 0: taken) a step; ghz's default
  int concurrency_end = 0;       // --concurrency-end: where it stops; 0: nowhere
  // -c as given, which a step or line schedule's peak replaced in
  // `concurrency`: ghz's reports write it (50 unless given) whatever the
  // schedule. 0: `concurrency` is -c as given.
  int concurrency_given = 0;
  absl::Duration concurrency_step_duration = absl::ZeroDuration();  // step's only
  absl::Duration concurrency_max_duration = absl::ZeroDuration();   // 0: no limit
  int64_t total = 200;           // -n: calls to make (ignored with -z)
  bool total_set = false;        // -n was given explicitly
  absl::Duration duration = absl::ZeroDuration();  // -z; zero: run by -n
  // -x: run by -n, but for no longer than this; zero: no limit. Given with
  // -z, it wins, as in ghz: Validate makes it the run's -z.
  absl::Duration max_duration = absl::ZeroDuration();
  DurationStop duration_stop = DurationStop::kClose;
  double rps = 0;                // --rps; 0: as fast as the server answers
  // --async: make each call when it is due, whether or not the slot's last
  // call is back (an open loop); without a rate, every call is due at once,
  // as ghz's pacer has it at rate 0, up to the engines' cap on calls in
  // flight (slot_sets.h).
  bool async = false;
  LoadSchedule load_schedule = LoadSchedule::kConst;  // --load-schedule
  double load_start = 0;         // --load-start: calls/s of the first step
  double load_step = 0;          // --load-step: added at each step (< 0: taken)
  double load_end = 0;           // --load-end: where the rate stops; 0: nowhere
  absl::Duration load_step_duration = absl::ZeroDuration();  // step's only
  absl::Duration load_max_duration = absl::ZeroDuration();   // 0: no limit
  int connections = 1;           // --connections
  absl::Duration timeout = absl::Seconds(20);  // -t, per call
  absl::Duration connect_timeout = absl::Seconds(10);
  std::string data;              // -d JSON (an object, or an array of them)
  std::string data_file;         // -D: JSON read from a file
  bool binary = false;           // -b: serialized message(s) on stdin
  std::string binary_file;       // -B: serialized message(s) in a file
  std::vector<std::pair<std::string, std::string>> metadata;  // -m JSON object
  // The same with its keys as given, where `metadata`, sent, has them
  // lowercased, as gRPC must: the JSON report's options.metadata, as ghz
  // reads it back into its map.
  std::vector<std::pair<std::string, std::string>> metadata_as_given;
  bool metadata_set = false;     // -m given, or -M once read (even an empty {})
  std::string metadata_file;     // -M: the -m JSON read from a file
  // --reflect-metadata: sent with the server reflection call alone (which
  // gets no -m metadata), as ghz does.
  std::vector<std::pair<std::string, std::string>> reflect_metadata;
  // The request JSON and metadata values are call templates
  // (call_template.h) unless --disable-template-data; their functions are
  // off with --disable-template-functions.
  bool disable_template_data = false;
  bool disable_template_functions = false;
  std::string authority;         // --authority: :authority of every call
  std::string cname;             // --cname: the name the server's TLS
                                 // certificate is checked against
  bool enable_compression = false;  // -e: gzip every request message
  // Bytes a message may have, received or sent; 0: no limit. A call over it
  // fails RESOURCE_EXHAUSTED, as gRPC fails it.
  int max_recv_message_size = 0;   // --max-recv-message-size
  int max_send_message_size = 0;   // --max-send-message-size
  // Time between keepalive pings on an idle connection; 0: none.
  absl::Duration keepalive = absl::ZeroDuration();  // --keepalive
  // gRPC's load-balancing policy over the addresses HOST resolves to:
  // pick_first or round_robin; empty: gRPC's default (pick_first).
  std::string lb_strategy;       // --lb-strategy
  bool insecure = false;         // --insecure: plaintext
  std::string cacert;            // --cacert: PEM roots for TLS
  std::string cert;              // --cert: PEM client certificate (mutual TLS)
  std::string key;               // --key: its PEM private key
  bool skip_tls = false;         // --skipTLS: do not check the server's certificate
  OutputFormat format = OutputFormat::kSummary;  // -O
  std::string output;            // -o: write the report here, not stdout
  std::string name;              // --name: recorded in the JSON report
  std::vector<std::pair<std::string, std::string>> tags;  // --tags, likewise
  int cpus = 0;                  // --cpus: client threads; 0: all cores
  // Streaming calls: messages sent per call, round the request messages
  // (0: each once); time between two sends; time after which a call sends
  // no more (it then ends its side of the stream). 0: none.
  int64_t stream_call_count = 0;   // --stream-call-count
  absl::Duration stream_interval = absl::ZeroDuration();       // --stream-interval
  absl::Duration stream_call_duration = absl::ZeroDuration();  // --stream-call-duration
  // Render the call templates afresh for every message a call streams, not
  // once per call.
  bool stream_dynamic_messages = false;  // --stream-dynamic-messages
  int64_t skip_first = 0;        // --skipFirst: leave the first N out of the report
  bool count_errors = false;     // --count-errors: latency stats over every call
  EngineKind engine = EngineKind::kAuto;  // --engine
  bool help = false;             // -h/--help
  bool version = false;          // -v/--version
  std::string debug;             // --debug: log what the run decides here
};

// How long the run may last: -z, else -x; zero for no limit.
inline absl::Duration RunLimit(const LoadOptions& options) {
  if (options.duration > absl::ZeroDuration()) return options.duration;
  return std::max(options.max_duration, absl::ZeroDuration());
}

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_OPTIONS_H_
