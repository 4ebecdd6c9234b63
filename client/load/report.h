// The load report: ghz's numbers, computed exactly from every call.
//
// Field meanings follow ghz (https://ghz.sh/docs/output):
//   count    calls finished, OK or not (but for the --skipFirst ones)
//   total    wall time of the run, first call start to last call end;
//            a -z run's is at least -z, an interrupted run's lasts until
//            the interrupt
//   rps      count / total
//   date     when the run ended (ghz: when the report was made)
//   average  over every call, OK or not, as ghz's
//   fastest, slowest  over the OK calls, as ghz has them; over every call
//            with --count-errors (LatencyStats::kAllCalls)
//   latencyDistribution  nearest-rank percentiles 10 25 50 75 90 95 99, plus
//            99.9 and 99.99 (ghz stops at 99), over the same calls; in JSON
//            the last two are tailLatencyDistribution, since ghz's readers
//            take only whole percentages
//   histogram  11 marks evenly spaced from fastest to slowest; each call
//            counts at the first mark >= its latency; same calls again
// A run whose calls all failed has no latency figures but the average
// (zeros, no percentiles, no histogram) unless errors count: a refusal's
// latency says nothing of how long the work takes.
// Durations are integer nanoseconds in JSON (Go's time.Duration encoding),
// histogram marks are seconds, as ghz writes them. Errors (any code but OK)
// are counted under their grpc-go text, "rpc error: code = X desc = Y".
#ifndef HANDOFF_CLIENT_LOAD_REPORT_H_
#define HANDOFF_CLIENT_LOAD_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/time/time.h"
#include "client/load/options.h"

namespace handoff::load {

// One finished call.
struct CallResult {
  int64_t latency_ns = 0;
  grpc::StatusCode code = grpc::StatusCode::OK;
  // Index into RunResults::errors when code != OK.
  uint32_t error = 0;
  // When it ended, on MonotonicNowNs()'s clock (schedule.h).
  int64_t end_ns = 0;
};

// What a run produced; BuildReport turns it into a Report.
struct RunResults {
  std::vector<CallResult> calls;
  std::vector<std::string> errors;  // distinct error texts
  absl::Time start;
  int64_t start_ns = 0;  // `start` on MonotonicNowNs()'s clock
  absl::Duration total;
  std::string end_reason = "normal";  // ghz: normal, timeout, cancel
};

struct LatencyPoint {
  double percentage;  // 10, ..., 99.9, 99.99
  int64_t latency_ns;
};

struct Bucket {
  double mark_seconds;
  int64_t count;
  double frequency;  // count / calls
};

struct Report {
  std::string name;
  std::string end_reason;
  absl::Time date;        // when the run ended (start + total), as ghz dates its report
  absl::Time start;       // when it began
  int64_t start_ns = 0;   // `start` on MonotonicNowNs()'s clock
  uint64_t count = 0;
  int64_t total_ns = 0;
  int64_t average_ns = 0;
  // The sum of the latencies in the histogram and the percentiles (the OK
  // calls', or every call's with --count-errors): Prometheus's _sum.
  long double histogram_sum_ns = 0;
  int64_t fastest_ns = 0;
  int64_t slowest_ns = 0;
  double rps = 0;
  std::vector<LatencyPoint> latency_distribution;
  std::map<std::string, int64_t> status_code_distribution;  // ghz code names
  std::map<std::string, int64_t> error_distribution;
  std::vector<Bucket> histogram;
  // Every call in completion order, for -O csv.
  std::vector<CallResult> details;
  std::vector<std::string> errors;
};

// The percentiles every report carries, in order.
const std::vector<double>& ReportPercentiles();

// Nearest rank: the smallest latency with at least p% of calls at or below
// it. `sorted` ascending and non-empty; p in (0, 100], read to 1e-4 (99.99
// and 99.9999 are as written).
int64_t Percentile(const std::vector<int64_t>& sorted, double p);

// ghz's histogram of `sorted` (ascending) with `buckets` + 1 marks.
std::vector<Bucket> Histogram(const std::vector<int64_t>& sorted, int buckets = 10);

// Which calls the latency figures are taken over.
enum class LatencyStats {
  kOkCalls,   // ghz's default
  kAllCalls,  // --count-errors
};

Report BuildReport(RunResults results, std::string name = "",
                   LatencyStats stats = LatencyStats::kOkCalls);

// ghz's text summary.
std::string FormatSummary(const Report& report);
// ghz's JSON report (without ghz's per-call "details"), readable as ghz's
// own: latencyDistribution holds the whole percentages, 10 to 99, and
// tailLatencyDistribution 99.9 and 99.99.
std::string FormatJson(const Report& report, const LoadOptions& options,
                       bool pretty);
// ghz's -O influx-summary: the summary as one InfluxDB line, measurement
// ghz_run, its tags and fields as ghz writes them (string tags in quotes).
std::string FormatInfluxSummary(const Report& report, const LoadOptions& options);
// ghz's -O html: the summary, histogram, latency, status and error
// distributions, and last the run's options (the JSON report's "options",
// indented), as one self-contained page (no script, nothing fetched).
std::string FormatHtml(const Report& report, const LoadOptions& options);
// ghz's -O influx-details: one ghz_detail line per call, at the time it
// ended: its latency, error and status.
std::string FormatInfluxDetails(const Report& report, const LoadOptions& options);
// ghz's -O prometheus: the summary in Prometheus's text format (gauges
// ghz_run_count, _total, _average, _fastest, _slowest, _rps, _errors in
// nanoseconds or counts; the histogram ghz_run_histogram with cumulative
// buckets in seconds; the latency distribution as the summary
// ghz_run_latency in nanoseconds), labelled with the run's options as
// ghz labels them (its report's options as strings) and --tags.
std::string FormatPrometheus(const Report& report, const LoadOptions& options);
// ghz's CSV: one line per call, "duration (ms),status,error".
std::string FormatCsv(const Report& report);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_REPORT_H_
