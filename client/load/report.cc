#include "client/load/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/load/go_duration.h"
#include "client/load/go_json.h"
#include "client/status.h"

namespace handoff::load {
namespace {

// The -n a report gives: a -z run ignores -n, and ghz, which runs it by a
// count of math.MaxInt32, reports that; writing the ignored -n would claim a
// bound the run never had.
int64_t ReportedTotal(const LoadOptions& o) {
  constexpr int64_t kGhzDurationRunTotal = 2147483647;
  return o.duration > absl::ZeroDuration() ? kGhzDurationRunTotal : o.total;
}

// The -c a report gives: as given, as ghz's reports write it, not the
// peak of a concurrency schedule that the run took in its place; the
// schedule's own keys say what ran.
int ReportedConcurrency(const LoadOptions& o) {
  return o.concurrency_given != 0 ? o.concurrency_given : o.concurrency;
}

// A schedule's step duration as ghz's reports give it: ghz steps a line
// schedule every second and sets its step duration to that, whatever was
// given.
absl::Duration ReportedStepDuration(LoadSchedule s, absl::Duration given) {
  return s == LoadSchedule::kLine ? absl::Seconds(1) : given;
}

// A duration as ghz prints it (its formatNanoUnit): below 10 us in whole
// nanoseconds, below a second in milliseconds, else in seconds; a -z 10s
// run's Total is "10.00 s", not "10000.52 ms".
std::string Ms(int64_t ns) {
  if (ns < 10'000) return absl::StrFormat("%d ns", ns);
  const double ms = ns / 1e6;
  if (ms < 1000) return absl::StrFormat("%.2f ms", ms);
  return absl::StrFormat("%.2f s", ms / 1000);
}

// Numbers in the Prometheus text: integral values print without a
// fraction, others with ten significant digits (plenty for seconds at
// nanosecond resolution).
std::string PromNumber(double v) {
  if (!std::isfinite(v)) return "0";
  if (v == std::floor(v) && std::abs(v) < 9e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.10g", v);
}

// A float in ghz's JSON report, as Go's encoding/json writes a float64
// (GoNumber); where Go would refuse the report (NaN, infinities), 0.
std::string GoJsonFloat(double v) { return std::isfinite(v) ? GoNumber(v) : "0"; }

// A duration in seconds as Go's Duration.Seconds() computes it, whole
// seconds plus the rest over 1e9: ghz's rate and marks are such doubles,
// which can differ from ns / 1e9 in the last bit, as its JSON shows.
double GoSeconds(int64_t ns) {
  return static_cast<double>(ns / 1'000'000'000) +
         static_cast<double>(ns % 1'000'000'000) / 1e9;
}

// The run's headline figures by ghz's names, in its order: the count, then
// total, average, fastest and slowest in nanoseconds, then the rate as the
// format at hand prints it.
std::vector<std::pair<absl::string_view, std::string>> Headline(const Report& r,
                                                                std::string rps) {
  return {{"count", absl::StrCat(r.count)},
          {"total", absl::StrCat(r.total_ns)},
          {"average", absl::StrCat(r.average_ns)},
          {"fastest", absl::StrCat(r.fastest_ns)},
          {"slowest", absl::StrCat(r.slowest_ns)},
          {"rps", std::move(rps)}};
}

// A tiny JSON writer: enough structure for the report, compact, as Go's
// json.Marshal writes it (pretty is GoJsonIndented over the whole).
class JsonWriter {
 public:
  void Open(char bracket) {
    out_ += bracket;
    first_.push_back(true);
  }
  void Close(char bracket) {
    first_.pop_back();
    out_ += bracket;
  }
  void Key(absl::string_view key) {
    Element();
    out_ += GoQuoted(key);
    out_ += ':';
  }
  // The next value inside an array.
  void Element() {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  void Raw(absl::string_view v) { out_.append(v.data(), v.size()); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::vector<bool> first_;
};

std::string PercentLabel(double p) { return absl::StrFormat("%g", p); }

// The directory of `path` as Go's filepath.Dir gives it: all but the last
// element, cleaned ("a//b/./c.proto" is "a/b"; "c.proto" is ".").
std::string GoDir(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const bool rooted = !path.empty() && path[0] == '/';
  std::vector<absl::string_view> parts;
  if (slash != absl::string_view::npos) {
    for (absl::string_view part : absl::StrSplit(path.substr(0, slash), '/')) {
      if (part.empty() || part == ".") continue;
      if (part == ".." && !parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (part != ".." || !rooted) {
        parts.push_back(part);
      }
    }
  }
  std::string dir = absl::StrCat(rooted ? "/" : "", absl::StrJoin(parts, "/"));
  return dir.empty() ? "." : dir;
}

// ghz's import paths: --proto's directory (unless "."), ".", then -i's;
// none without --proto.
std::vector<std::string> GhzImportPaths(const LoadOptions& o) {
  std::vector<std::string> paths;
  if (o.proto.empty()) return paths;
  if (std::string dir = GoDir(o.proto); dir != ".") paths.push_back(std::move(dir));
  paths.emplace_back(".");
  paths.insert(paths.end(), o.import_paths.begin(), o.import_paths.end());
  return paths;
}

// A JSON object of strings as Go marshals a map[string]string: keys in
// order, strings with Go's escapes.
std::string GoJsonObject(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto sorted = pairs;
  std::sort(sorted.begin(), sorted.end());
  return absl::StrCat("{", absl::StrJoin(sorted, ",", [](std::string* out, const auto& kv) {
    absl::StrAppend(out, GoQuoted(kv.first), ":", GoQuoted(kv.second));
  }), "}");
}

// InfluxDB line protocol's escapes for a tag value, as ghz applies them.
std::string InfluxEscaped(absl::string_view s) {
  return absl::StrReplaceAll(s, {{" ", "\\ "}, {",", "\\,"}, {"=", "\\="}});
}

// An error as the string field of a ghz_detail line: ghz's escapes (a
// tag's: space, comma, =), which InfluxDB keeps as written, and more where
// ghz's line would break: a quote or a backslash escaped, as the line
// protocol reads them back, and a line break written as \n.
std::string InfluxErrorField(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"},
                                 {"\"", "\\\""},
                                 {"\n", "\\n"},
                                 {"\r", "\\r"},
                                 {" ", "\\ "},
                                 {",", "\\,"},
                                 {"=", "\\="}});
}

// Prometheus's escapes for a label value.
std::string PromEscaped(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string HtmlEscaped(absl::string_view s) {
  return absl::StrReplaceAll(
      s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

// Durations as ghz's Go prints a float64 of seconds: 20, 0.5, 1e-06.
std::string Seconds(absl::Duration d) { return absl::StrFormat("%g", absl::ToDoubleSeconds(d)); }

// Rows of two cells as ghz's summary lays them out (Go's tabwriter with a
// padding of 3, each cell ended by a tab): every cell, the last too, padded
// with spaces to its column's widest and three more, so the columns align.
std::string TwoColumns(const std::vector<std::pair<std::string, std::string>>& rows) {
  // Widths in characters, as tabwriter counts them: UTF-8 lead bytes.
  auto width = [](absl::string_view text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  };
  size_t first = 0;
  size_t second = 0;
  for (const auto& [a, b] : rows) {
    first = std::max(first, width(a));
    second = std::max(second, width(b));
  }
  std::string out;
  for (const auto& [a, b] : rows) {
    absl::StrAppend(&out, a, std::string(first + 3 - width(a), ' '), b,
                    std::string(second + 3 - width(b), ' '), "\n");
  }
  return out;
}

int64_t Errors(const Report& r) {
  int64_t n = 0;
  for (const auto& [error, count] : r.error_distribution) n += count;
  return n;
}

int64_t LatencyAt(const Report& r, double percentage) {
  for (const LatencyPoint& p : r.latency_distribution) {
    if (p.percentage == percentage) return p.latency_ns;
  }
  return 0;
}

}  // namespace

const std::vector<double>& ReportPercentiles() {
  static const auto* p =
      new std::vector<double>{10, 25, 50, 75, 90, 95, 99, 99.9, 99.99};
  return *p;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  // rank = ceil(p/100 * n), 1-based, in whole numbers: p in millionths of
  // the calls. In floating point, 99.9% of 1000 calls came to rank 1000
  // through 999.0000000001, and a fixed guard against that grew too small
  // with n: 99.9% of 20,000,000 is 19,980,000.0000000037.
  // (No overflow below 1.8e13 calls.)
  const auto millionths = static_cast<uint64_t>(std::llround(p * 1e4));
  const uint64_t n = sorted.size();
  auto rank = static_cast<size_t>((millionths * n + 999'999) / 1'000'000);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::vector<Bucket> Histogram(const std::vector<int64_t>& sorted, int buckets) {
  std::vector<Bucket> out;
  if (sorted.empty()) return out;
  // In seconds, as ghz computes them, so that the marks are its doubles.
  const double fastest = GoSeconds(sorted.front());
  const double slowest = GoSeconds(sorted.back());
  const double width = (slowest - fastest) / buckets;
  std::vector<double> marks(buckets + 1);
  for (int i = 0; i < buckets; ++i) marks[i] = fastest + width * i;
  marks[buckets] = slowest;  // exact, so the slowest call always lands
  std::vector<int64_t> counts(marks.size(), 0);
  size_t b = 0;
  for (int64_t latency : sorted) {
    while (b + 1 < marks.size() && GoSeconds(latency) > marks[b]) ++b;
    ++counts[b];
  }
  for (size_t i = 0; i < marks.size(); ++i) {
    out.push_back({marks[i], counts[i], static_cast<double>(counts[i]) / sorted.size()});
  }
  return out;
}

Report BuildReport(RunResults results, std::string name, LatencyStats stats) {
  Report r;
  r.name = std::move(name);
  r.end_reason = results.end_reason;
  r.date = results.start + results.total;
  r.start = results.start;
  r.start_ns = results.start_ns;
  r.count = results.calls.size();
  r.total_ns = absl::ToInt64Nanoseconds(results.total);
  r.rps = r.total_ns > 0 ? r.count / GoSeconds(r.total_ns) : 0;  // as ghz divides

  std::vector<int64_t> sorted;
  sorted.reserve(results.calls.size());
  // Sum in long double: a 10M-call run of 1 s latencies overflows nothing
  // but would lose precision in a double.
  long double sum = 0;
  for (const CallResult& call : results.calls) {
    sum += call.latency_ns;
    if (call.code == grpc::StatusCode::OK || stats == LatencyStats::kAllCalls) {
      sorted.push_back(call.latency_ns);
      r.histogram_sum_ns += call.latency_ns;
    }
    ++r.status_code_distribution[std::string(GoCodeName(call.code))];
    if (call.code != grpc::StatusCode::OK) {
      ++r.error_distribution[results.errors.at(call.error)];
    }
  }
  // The mean of every call, failed or not, as ghz's Average is: only the
  // figures below leave the errors out.
  if (r.count > 0) r.average_ns = static_cast<int64_t>(sum / r.count);
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty()) {
    r.fastest_ns = sorted.front();
    r.slowest_ns = sorted.back();
    for (double p : ReportPercentiles()) {
      r.latency_distribution.push_back({p, Percentile(sorted, p)});
    }
    r.histogram = Histogram(sorted);
  }
  r.details = std::move(results.calls);
  r.errors = std::move(results.errors);
  return r;
}

std::string FormatSummary(const Report& r) {
  std::string out = "\nSummary:\n";
  if (!r.name.empty()) absl::StrAppend(&out, "  Name:\t\t", r.name, "\n");
  absl::StrAppend(&out, "  Count:\t", r.count, "\n");
  absl::StrAppend(&out, "  Total:\t", Ms(r.total_ns), "\n");
  absl::StrAppend(&out, "  Slowest:\t", Ms(r.slowest_ns), "\n");
  absl::StrAppend(&out, "  Fastest:\t", Ms(r.fastest_ns), "\n");
  absl::StrAppend(&out, "  Average:\t", Ms(r.average_ns), "\n");
  absl::StrAppendFormat(&out, "  Requests/sec:\t%.2f\n", r.rps);

  out += "\nResponse time histogram:\n";
  int64_t max = 0;
  double max_mark = 0;
  for (const Bucket& b : r.histogram) {
    max = std::max(max, b.count);
    max_mark = std::max(max_mark, b.mark_seconds);
  }
  auto mark_text = [](double seconds) { return absl::StrFormat("%.3f", seconds * 1e3); };
  // Each mark and count padded to the widest, as ghz pads them: tabs left
  // the bars ragged once a count or a mark grew a digit.
  const size_t mark_width = mark_text(max_mark).size();
  const size_t count_width = absl::StrCat(max).size();
  for (const Bucket& b : r.histogram) {
    // Rounded to the nearest bar, as ghz draws it: 1 call of 78 is a bar.
    const int64_t bar = max > 0 ? (b.count * 40 + max / 2) / max : 0;
    std::string bars;
    for (int64_t i = 0; i < bar; ++i) bars += "\u220e";  // ∎, as ghz draws
    const std::string mark = mark_text(b.mark_seconds);
    const std::string count = absl::StrCat(b.count);
    const std::string mark_pad(mark_width - std::min(mark_width, mark.size()), ' ');
    const std::string count_pad(count_width - std::min(count_width, count.size()), ' ');
    absl::StrAppend(&out, "  ", mark, mark_pad, " [", count, "]", count_pad, " |", bars, "\n");
  }

  out += "\nLatency distribution:\n";
  for (const LatencyPoint& p : r.latency_distribution) {
    absl::StrAppend(&out, "  ", PercentLabel(p.percentage), " % in ",
                    Ms(p.latency_ns), " \n");
  }

  // ghz's template: a blank line, the status codes if any, a newline, the
  // errors if any, a newline; so the summary ends with a blank line, two
  // without errors.
  out += "\n";
  if (!r.status_code_distribution.empty()) {
    out += "Status code distribution:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [code, n] : r.status_code_distribution) {
      rows.emplace_back(absl::StrCat("  [", code, "]"), absl::StrCat(n, " responses"));
    }
    out += TwoColumns(rows);
  }
  out += "\n";
  if (!r.error_distribution.empty()) {
    out += "Error distribution:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [error, n] : r.error_distribution) {
      rows.emplace_back(absl::StrCat("  [", n, "]"), error);
    }
    out += TwoColumns(rows);
  }
  out += "\n";
  return out;
}

namespace {

// ghz's Options as its report marshals them, its keys in the order its
// struct declares them; the omitempty ones left out when zero, as Go leaves
// them out. The JSON report's "options", and the HTML page's Options block.
void WriteGhzOptions(JsonWriter& w, const LoadOptions& o) {
  auto field = [&](absl::string_view key, absl::string_view raw) {
    w.Key(key);
    w.Raw(raw);
  };
  w.Open('{');
  auto nanos = [](absl::Duration d) { return absl::StrCat(absl::ToInt64Nanoseconds(d)); };
  auto unless_empty = [&](absl::string_view key, absl::string_view value) {
    if (!value.empty()) field(key, GoQuoted(value));
  };
  auto flag_if_set = [&](absl::string_view key, bool value) {
    if (value) field(key, "true");
  };
  auto schedule = [](LoadSchedule s) {
    return s == LoadSchedule::kConst ? "const" : s == LoadSchedule::kStep ? "step" : "line";
  };
  // ghz's Go type holds these rates as integers and refuses the whole
  // report at a fraction, so a fractional rate goes under fractionalRates,
  // which ghz's readers skip, and its own key is left out.
  std::vector<std::pair<absl::string_view, double>> fractional_rates;
  auto rate = [&](absl::string_view key, double v) {
    if (v == std::floor(v)) {
      field(key, GoJsonFloat(v));
    } else {
      fractional_rates.emplace_back(key, v);
    }
  };
  unless_empty("call", o.call);
  unless_empty("host", o.host);
  unless_empty("proto", o.proto);
  unless_empty("protoset", o.protoset);
  if (!o.proto.empty()) {
    w.Key("import-paths");
    w.Open('[');
    for (const std::string& path : GhzImportPaths(o)) {
      w.Element();
      w.Raw(GoQuoted(path));
    }
    w.Close(']');
  }
  flag_if_set("enable-compression", o.enable_compression);
  unless_empty("cacert", o.cacert);
  unless_empty("cert", o.cert);
  unless_empty("key", o.key);
  unless_empty("cname", o.cname);
  flag_if_set("skipTLS", o.skip_tls);
  field("insecure", o.insecure ? "true" : "false");
  unless_empty("authority", o.authority);
  if (o.rps != 0) rate("rps", o.rps);
  field("load-schedule", GoQuoted(schedule(o.load_schedule)));
  rate("load-start", o.load_start);
  rate("load-end", o.load_end);
  rate("load-step", o.load_step);
  field("load-step-duration", nanos(ReportedStepDuration(o.load_schedule, o.load_step_duration)));
  field("load-max-duration", nanos(o.load_max_duration));
  if (ReportedConcurrency(o) != 0) field("concurrency", absl::StrCat(ReportedConcurrency(o)));
  field("concurrency-schedule", GoQuoted(schedule(o.concurrency_schedule)));
  field("concurrency-start", absl::StrCat(o.concurrency_start));
  field("concurrency-end", absl::StrCat(o.concurrency_end));
  field("concurrency-step", absl::StrCat(o.concurrency_step));
  field("concurrency-step-duration",
        nanos(ReportedStepDuration(o.concurrency_schedule, o.concurrency_step_duration)));
  field("concurrency-max-duration", nanos(o.concurrency_max_duration));
  if (ReportedTotal(o) != 0) field("total", absl::StrCat(ReportedTotal(o)));
  flag_if_set("async", o.async);
  if (o.connections != 0) field("connections", absl::StrCat(o.connections));
  if (o.duration != absl::ZeroDuration()) field("duration", nanos(o.duration));
  if (o.timeout != absl::ZeroDuration()) field("timeout", nanos(o.timeout));
  if (o.connect_timeout != absl::ZeroDuration()) field("dial-timeout", nanos(o.connect_timeout));
  if (o.keepalive != absl::ZeroDuration()) field("keepalive", nanos(o.keepalive));
  // The request JSON as ghz's Go writes back what it read of it; none for
  // binary requests, or JSON Go would not read (ghz's nil, left out).
  const bool binary = o.binary || !o.binary_file.empty();
  if (!binary && !o.data.empty()) {
    if (std::optional<std::string> data = GoJsonRewritten(o.data)) field("data", *data);
  }
  field("binary", binary ? "true" : "false");
  // ghz's *map[string]string, read back from -m's or -M's JSON: the keys as
  // given, and an empty object written as {} (omitempty leaves out only a
  // nil pointer); none given, nil, left out.
  if (o.metadata_set) field("metadata", GoJsonObject(o.metadata_as_given));
  field("CPUs", absl::StrCat(o.cpus));
  unless_empty("name", o.name);
  if (o.skip_first != 0) field("skipFirst", absl::StrCat(o.skip_first));
  flag_if_set("count-errors", o.count_errors);
  if (!fractional_rates.empty()) {
    w.Key("fractionalRates");
    w.Open('{');
    for (const auto& [key, v] : fractional_rates) field(key, GoJsonFloat(v));
    w.Close('}');
  }
  w.Close('}');
}

}  // namespace

std::string FormatJson(const Report& r, const LoadOptions& o, bool pretty) {
  JsonWriter w;
  auto field = [&](absl::string_view key, absl::string_view raw) {
    w.Key(key);
    w.Raw(raw);
  };
  w.Open('{');
  // ghz's Report.MarshalJSON wraps the report in a struct of its own with
  // the date as RFC 3339 text, and Go writes that outer field before the
  // embedded report's: the date comes first, then the report's fields in
  // their declared order. RFC 3339 in whole seconds (time.RFC3339), here in
  // UTC with a "Z".
  field("date", GoQuoted(absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", r.date,
                                          absl::UTCTimeZone())));
  if (!r.name.empty()) field("name", GoQuoted(r.name));
  field("endReason", GoQuoted(r.end_reason));

  w.Key("options");
  WriteGhzOptions(w, o);

  for (const auto& [name, value] : Headline(r, GoJsonFloat(r.rps))) field(name, value);

  w.Key("errorDistribution");
  w.Open('{');
  for (const auto& [error, n] : r.error_distribution) {
    field(error, absl::StrCat(n));
  }
  w.Close('}');

  w.Key("statusCodeDistribution");
  w.Open('{');
  for (const auto& [code, n] : r.status_code_distribution) {
    field(code, absl::StrCat(n));
  }
  w.Close('}');

  // ghz's report type reads a percentage as an integer (Go's `Percentage
  // int`), and fails on the whole report given 99.9: the whole percentages
  // are latencyDistribution, as ghz writes it, and the finer ones have a
  // field of their own, which such readers pass over.
  // No latency figures (no OK call, no --count-errors) leave ghz's slices
  // nil, which Go writes as null.
  auto distribution = [&](absl::string_view key, bool whole) {
    w.Key(key);
    if (r.latency_distribution.empty()) {
      w.Raw("null");
      return;
    }
    w.Open('[');
    for (const LatencyPoint& p : r.latency_distribution) {
      if ((p.percentage == std::floor(p.percentage)) != whole) continue;
      w.Element();
      w.Open('{');
      field("percentage", PercentLabel(p.percentage));
      field("latency", absl::StrCat(p.latency_ns));
      w.Close('}');
    }
    w.Close(']');
  };
  distribution("latencyDistribution", true);
  distribution("tailLatencyDistribution", false);

  w.Key("histogram");
  if (r.histogram.empty()) {
    w.Raw("null");
  } else {
    w.Open('[');
    for (const Bucket& b : r.histogram) {
      w.Element();
      w.Open('{');
      field("mark", GoJsonFloat(b.mark_seconds));
      field("count", absl::StrCat(b.count));
      field("frequency", GoJsonFloat(b.frequency));
      w.Close('}');
    }
    w.Close(']');
  }
  // ghz's last field, after the details this report leaves out; a Go map,
  // which encoding/json writes in key order, a key given twice with its
  // last value.
  if (!o.tags.empty()) {
    std::map<std::string, std::string> tags;
    for (const auto& [key, value] : o.tags) tags[key] = value;
    w.Key("tags");
    w.Open('{');
    for (const auto& [key, value] : tags) field(key, GoQuoted(value));
    w.Close('}');
  }
  w.Close('}');
  // ghz's pretty is json.Indent over the marshalled report, so the nested
  // request data is laid out too.
  std::string json = w.Take();
  if (pretty) json = GoJsonIndented(json, "  ");
  return json + "\n";
}

namespace {

// ghz's tags for its InfluxDB lines; `errors` adds the run's error count.
std::vector<std::string> InfluxTags(const Report& r, const LoadOptions& o, bool errors) {
  std::vector<std::string> tags;
  if (!r.name.empty()) {
    tags.push_back(absl::StrCat("name=\"", InfluxEscaped(absl::StripAsciiWhitespace(r.name)),
                                "\""));
  }
  // ghz writes these three as they are; escaped, a path with a space or a
  // comma leaves the line whole, and the rest are as ghz's.
  if (!o.proto.empty()) {
    tags.push_back(absl::StrCat("proto=\"", InfluxEscaped(o.proto), "\""));
  } else if (!o.protoset.empty()) {
    tags.push_back(absl::StrCat("Protoset=\"", InfluxEscaped(o.protoset), "\""));
  }
  tags.push_back(absl::StrCat("call=\"", InfluxEscaped(o.call), "\""));
  tags.push_back(absl::StrCat("host=\"", InfluxEscaped(o.host), "\""));
  tags.push_back(absl::StrCat("n=", ReportedTotal(o)));
  if (o.concurrency_schedule == LoadSchedule::kConst) {
    tags.push_back(absl::StrCat("c=", ReportedConcurrency(o)));
  } else {
    tags.push_back(absl::StrCat(
        "concurrency-schedule=", o.concurrency_schedule == LoadSchedule::kStep ? "step" : "line"));
    tags.push_back(absl::StrCat("concurrency-start=", o.concurrency_start));
    tags.push_back(absl::StrCat("concurrency-end=", o.concurrency_end));
    tags.push_back(absl::StrCat("concurrency-step=", o.concurrency_step));
    // Durations as ghz's %v writes a Go Duration: "0s", "2m0s".
    const absl::Duration step =
        ReportedStepDuration(o.concurrency_schedule, o.concurrency_step_duration);
    tags.push_back(absl::StrCat("concurrency-step-duration=", GoDurationString(step)));
    tags.push_back(absl::StrCat("concurrency-max-duration=",
                                GoDurationString(o.concurrency_max_duration)));
  }
  if (o.load_schedule == LoadSchedule::kConst) {
    tags.push_back(absl::StrCat("rps=", absl::StrFormat("%g", o.rps)));
  } else {
    tags.push_back(
        absl::StrCat("load-schedule=", o.load_schedule == LoadSchedule::kStep ? "step" : "line"));
    tags.push_back(absl::StrCat("load-start=", absl::StrFormat("%g", o.load_start)));
    tags.push_back(absl::StrCat("load-end=", absl::StrFormat("%g", o.load_end)));
    tags.push_back(absl::StrCat("load-step=", absl::StrFormat("%g", o.load_step)));
    tags.push_back(absl::StrCat(
        "load-step-duration=",
        GoDurationString(ReportedStepDuration(o.load_schedule, o.load_step_duration))));
    tags.push_back(
        absl::StrCat("load-max-duration=", GoDurationString(o.load_max_duration)));
  }
  tags.push_back(absl::StrCat("z=", absl::ToInt64Nanoseconds(o.duration)));
  tags.push_back(absl::StrCat("timeout=", Seconds(o.timeout)));
  tags.push_back(absl::StrCat("dial_timeout=", Seconds(o.connect_timeout)));
  tags.push_back(absl::StrCat("keepalive=", Seconds(o.keepalive)));
  // The request JSON as ghz's Go writes back what it read of it, as a JSON
  // string, escaped; "null" where there is none to read (binary requests,
  // none given), Go's nil.
  std::optional<std::string> data;
  if (!o.binary && o.binary_file.empty()) data = GoJsonRewritten(o.data);
  tags.push_back(absl::StrCat("data=", InfluxEscaped(GoQuoted(data ? *data : "null"))));
  // As ghz: metadata is the map as given, written when given at all (an
  // empty -M {} too); tags only when there are some.
  auto object_tag = [](bool written, const std::vector<std::pair<std::string, std::string>>& pairs) {
    return written ? InfluxEscaped(GoQuoted(GoJsonObject(pairs))) : std::string("\"\"");
  };
  tags.push_back(absl::StrCat("metadata=", object_tag(o.metadata_set, o.metadata_as_given)));
  tags.push_back(absl::StrCat("tags=", object_tag(!o.tags.empty(), o.tags)));
  if (errors) {
    tags.push_back(absl::StrCat("errors=", Errors(r)));
    tags.push_back(absl::StrCat("has_errors=", Errors(r) > 0 ? "true" : "false"));
  }
  return tags;
}

}  // namespace

std::string FormatInfluxSummary(const Report& r, const LoadOptions& o) {
  const int64_t errors = Errors(r);
  std::vector<std::string> fields;
  for (const auto& [name, value] : Headline(r, absl::StrFormat("%4.2f", r.rps))) {
    fields.push_back(absl::StrCat(name, "=", value));
  }
  if (!r.latency_distribution.empty()) {
    fields.push_back(absl::StrCat("median=", LatencyAt(r, 50)));
    fields.push_back(absl::StrCat("p95=", LatencyAt(r, 95)));
  }
  fields.push_back(absl::StrCat("errors=", errors));
  return absl::StrCat("ghz_run,", absl::StrJoin(InfluxTags(r, o, true), ","), " ",
                      absl::StrJoin(fields, ","), " ",
                      std::max<int64_t>(absl::ToUnixNanos(r.date), 0), "\n");
}

std::string FormatInfluxDetails(const Report& r, const LoadOptions& o) {
  const std::string tags = absl::StrJoin(InfluxTags(r, o, false), ",");
  const int64_t start = absl::ToUnixNanos(r.start);
  std::string out;
  for (const CallResult& call : r.details) {
    const bool failed = call.code != grpc::StatusCode::OK;
    const std::string error = failed ? r.errors.at(call.error) : "";
    absl::StrAppend(&out, "ghz_detail,", tags, ",hasError=", failed ? "true" : "false",
                    " latency=", call.latency_ns, ",error=\"", InfluxErrorField(error),
                    "\",status=\"", GoCodeName(call.code), "\" ",
                    std::max<int64_t>(start + (call.end_ns - r.start_ns), 0), "\n");
  }
  return out;
}

std::string FormatPrometheus(const Report& r, const LoadOptions& o) {
  // ghz labels its series with its report's options, as strings: the
  // omitempty strings only when given, the rest always (a flag as "true" or
  // "false", a count or a duration in nanoseconds as an integer, the import
  // paths joined with ","), the request data and metadata never.
  std::vector<std::pair<std::string, std::string>> labels = {
      {"name", r.name}, {"end_reason", r.end_reason}, {"call", o.call}, {"host", o.host}};
  auto unless_empty = [&labels](const char* key, const std::string& value) {
    if (!value.empty()) labels.emplace_back(key, value);
  };
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  auto nanos = [](absl::Duration d) { return absl::StrCat(absl::ToInt64Nanoseconds(d)); };
  unless_empty("proto", o.proto);
  unless_empty("protoset", o.protoset);
  labels.emplace_back("import_paths", absl::StrJoin(GhzImportPaths(o), ","));
  unless_empty("cacert", o.cacert);
  unless_empty("cert", o.cert);
  unless_empty("key", o.key);
  unless_empty("cname", o.cname);
  labels.emplace_back("skipTLS", flag(o.skip_tls));
  labels.emplace_back("insecure", flag(o.insecure));
  unless_empty("authority", o.authority);
  labels.insert(labels.end(),
                {{"concurrency", absl::StrCat(ReportedConcurrency(o))},
                 {"total", absl::StrCat(ReportedTotal(o))},
                 {"rps", absl::StrFormat("%g", o.rps)},
                 {"connections", absl::StrCat(o.connections)},
                 {"CPUs", absl::StrCat(o.cpus)},
                 {"async", flag(o.async)},
                 {"binary", flag(o.binary || !o.binary_file.empty())},
                 {"count_errors", flag(o.count_errors)},
                 {"skipFirst", absl::StrCat(o.skip_first)},
                 {"dial_timeout", nanos(o.connect_timeout)},
                 {"keepalive", nanos(o.keepalive)},
                 {"timeout", nanos(o.timeout)},
                 {"duration", nanos(o.duration)}});
  // ghz labels a step or line schedule with its options (its keys' '-' as
  // '_', durations in nanoseconds) and leaves a const one's out.
  if (o.concurrency_schedule != LoadSchedule::kConst) {
    const absl::Duration step =
        ReportedStepDuration(o.concurrency_schedule, o.concurrency_step_duration);
    labels.insert(
        labels.end(),
        {{"concurrency_schedule",
          o.concurrency_schedule == LoadSchedule::kStep ? "step" : "line"},
         {"concurrency_start", absl::StrCat(o.concurrency_start)},
         {"concurrency_end", absl::StrCat(o.concurrency_end)},
         {"concurrency_step", absl::StrCat(o.concurrency_step)},
         {"concurrency_step_duration", absl::StrCat(absl::ToInt64Nanoseconds(step))},
         {"concurrency_max_duration",
          absl::StrCat(absl::ToInt64Nanoseconds(o.concurrency_max_duration))}});
  }
  if (o.load_schedule != LoadSchedule::kConst) {
    const absl::Duration step = ReportedStepDuration(o.load_schedule, o.load_step_duration);
    labels.insert(
        labels.end(),
        {{"load_schedule", o.load_schedule == LoadSchedule::kStep ? "step" : "line"},
         {"load_start", absl::StrFormat("%g", o.load_start)},
         {"load_end", absl::StrFormat("%g", o.load_end)},
         {"load_step", absl::StrFormat("%g", o.load_step)},
         {"load_step_duration", absl::StrCat(absl::ToInt64Nanoseconds(step))},
         {"load_max_duration", absl::StrCat(absl::ToInt64Nanoseconds(o.load_max_duration))}});
  }
  // --tags as labels too, their names made valid ([a-zA-Z_][a-zA-Z0-9_]*);
  // one that would repeat a label above is left out.
  for (const auto& [key, value] : o.tags) {
    std::string name = key;
    for (char& c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
      name = absl::StrCat("_", name);
    }
    const bool taken = std::any_of(labels.begin(), labels.end(),
                                   [&name](const auto& kv) { return kv.first == name; });
    if (!taken) labels.emplace_back(std::move(name), value);
  }
  const std::string common =
      absl::StrJoin(labels, ",", [](std::string* out, const auto& kv) {
        absl::StrAppend(out, kv.first, "=\"", PromEscaped(kv.second), "\"");
      });
  auto with = [&common](absl::string_view extra) {
    return absl::StrCat("{", common, extra.empty() ? "" : ",", extra, "}");
  };
  std::string out;
  auto gauge = [&](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&out, "# TYPE ", name, " gauge\n", name, with(""), " ", value, "\n");
  };
  for (const auto& [name, value] : Headline(r, PromNumber(r.rps))) {
    gauge(absl::StrCat("ghz_run_", name), value);
  }

  // The histogram's calls: its buckets, cumulative as Prometheus counts
  // them, with le in seconds as ghz's marks are, and their sum in seconds.
  int64_t in_histogram = 0;
  for (const Bucket& b : r.histogram) in_histogram += b.count;
  absl::StrAppend(&out, "# TYPE ghz_run_histogram histogram\n");
  // Marks that print alike (every call equally fast, as in a run of one
  // call, or marks closer than the printed digits) are one bucket: a series
  // may appear once in an exposition, and a cumulative bucket's count is
  // the last one's of those that share its bound.
  int64_t cumulative = 0;
  for (size_t i = 0; i < r.histogram.size(); ++i) {
    cumulative += r.histogram[i].count;
    const std::string le = PromNumber(r.histogram[i].mark_seconds);
    if (i + 1 < r.histogram.size() && PromNumber(r.histogram[i + 1].mark_seconds) == le) {
      continue;
    }
    absl::StrAppend(&out, "ghz_run_histogram_bucket", with(absl::StrCat("le=\"", le, "\"")),
                    " ", cumulative, "\n");
  }
  absl::StrAppend(&out, "ghz_run_histogram_bucket", with("le=\"+Inf\""), " ", in_histogram,
                  "\n");
  absl::StrAppend(&out, "ghz_run_histogram_sum", with(""), " ",
                  PromNumber(static_cast<double>(r.histogram_sum_ns / 1e9)), "\n");
  absl::StrAppend(&out, "ghz_run_histogram_count", with(""), " ", in_histogram, "\n");

  // The latency distribution as a summary, in nanoseconds as ghz has it.
  absl::StrAppend(&out, "# TYPE ghz_run_latency summary\n");
  for (const LatencyPoint& p : r.latency_distribution) {
    absl::StrAppend(&out, "ghz_run_latency",
                    with(absl::StrCat("quantile=\"", PromNumber(p.percentage / 100), "\"")),
                    " ", p.latency_ns, "\n");
  }
  absl::StrAppend(&out, "ghz_run_latency_sum", with(""), " ",
                  PromNumber(static_cast<double>(r.histogram_sum_ns)), "\n");
  absl::StrAppend(&out, "ghz_run_latency_count", with(""), " ", in_histogram, "\n");
  gauge("ghz_run_errors", absl::StrCat(Errors(r)));
  return out;
}

std::string FormatHtml(const Report& r, const LoadOptions& o) {
  const std::string title = HtmlEscaped(r.name.empty() ? o.call : r.name);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
      title, "</title>\n<style>\n",
      "body{font-family:sans-serif;margin:2em;color:#222}\n"
      "table{border-collapse:collapse;margin-bottom:1.5em}\n"
      "td,th{padding:.25em .75em;text-align:left;border-bottom:1px solid #ddd}\n"
      "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
      ".bar{background:#4a7;height:1em}\n",
      ".tag{background:#eee;border-radius:.25em;padding:.1em .5em}\n",
      "</style>\n</head>\n<body>\n<h1>", title, "</h1>\n");
  // Under the title, as on ghz's page: --tags, by name (a Go map's order,
  // and the JSON report's), a name given twice its last value.
  if (!o.tags.empty()) {
    std::map<std::string, std::string> tags;
    for (const auto& [key, value] : o.tags) tags[key] = value;
    std::vector<std::string> spans;
    for (const auto& [key, value] : tags) {
      spans.push_back(absl::StrCat("<span class=\"tag\">", HtmlEscaped(key), ": ",
                                   HtmlEscaped(value), "</span>"));
    }
    absl::StrAppend(&out, "<p class=\"tags\">", absl::StrJoin(spans, " "), "</p>\n");
  }
  auto row = [&out](absl::string_view key, absl::string_view value) {
    absl::StrAppend(&out, "<tr><th>", HtmlEscaped(key), "</th><td class=\"n\">",
                    HtmlEscaped(value), "</td></tr>\n");
  };
  out += "<h2>Summary</h2>\n<table>\n";
  row("Call", o.call);
  row("Host", o.host);
  row("Date", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", r.date, absl::UTCTimeZone()));
  row("End reason", r.end_reason);
  row("Count", absl::StrCat(r.count));
  row("Total", Ms(r.total_ns));
  row("Slowest", Ms(r.slowest_ns));
  row("Fastest", Ms(r.fastest_ns));
  row("Average", Ms(r.average_ns));
  row("Requests/sec", absl::StrFormat("%.2f", r.rps));
  out += "</table>\n";

  out += "<h2>Response time histogram</h2>\n<table>\n";
  int64_t max = 0;
  for (const Bucket& b : r.histogram) max = std::max(max, b.count);
  for (const Bucket& b : r.histogram) {
    const double width = max > 0 ? 100.0 * static_cast<double>(b.count) / max : 0;
    absl::StrAppendFormat(&out,
                          "<tr><td class=\"n\">%.3f ms</td><td class=\"n\">%d</td>"
                          "<td style=\"width:30em\"><div class=\"bar\" "
                          "style=\"width:%.1f%%\"></div></td></tr>\n",
                          b.mark_seconds * 1e3, b.count, width);
  }
  out += "</table>\n";

  out += "<h2>Latency distribution</h2>\n<table>\n";
  for (const LatencyPoint& p : r.latency_distribution) {
    row(absl::StrCat(PercentLabel(p.percentage), " %"), Ms(p.latency_ns));
  }
  out += "</table>\n";

  out += "<h2>Status code distribution</h2>\n<table>\n";
  for (const auto& [code, n] : r.status_code_distribution) row(code, absl::StrCat(n));
  out += "</table>\n";
  if (!r.error_distribution.empty()) {
    out += "<h2>Error distribution</h2>\n<table>\n";
    for (const auto& [error, n] : r.error_distribution) {
      absl::StrAppend(&out, "<tr><td class=\"n\">", n, "</td><td>", HtmlEscaped(error),
                      "</td></tr>\n");
    }
    out += "</table>\n";
  }
  // Last, as on ghz's page: the options the run was made with, as the JSON
  // report's "options" and indented as ghz's page has them, so a saved page
  // says which run it shows.
  JsonWriter options;
  WriteGhzOptions(options, o);
  absl::StrAppend(&out, "<h2 id=\"options\">Options</h2>\n<pre>",
                  HtmlEscaped(GoJsonIndented(options.Take(), "  ")), "</pre>\n");
  out += "</body>\n</html>\n";
  return out;
}

std::string FormatCsv(const Report& r) {
  // ghz's template opens with a blank line, as its summary does.
  std::string out = "\nduration (ms),status,error\n";
  for (const CallResult& call : r.details) {
    std::string error;
    if (call.code != grpc::StatusCode::OK) {
      error = r.errors.at(call.error);
      // ghz writes an error as it is; one that would split the line into
      // more fields or lines is quoted, its quotes doubled (RFC 4180).
      if (error.find_first_of(",\"\r\n") != std::string::npos) {
        error = absl::StrCat("\"", absl::StrReplaceAll(error, {{"\"", "\"\""}}), "\"");
      }
    }
    // As ghz computes it, Go's Duration.Seconds() times 1000: whole
    // seconds plus the rest over 1e9, which rounds apart from ns / 1e6 at
    // a half (15 us: 0.015000000000000001 there, "0.02").
    const int64_t whole = call.latency_ns / 1'000'000'000;
    const int64_t rest = call.latency_ns % 1'000'000'000;
    const double ms = (static_cast<double>(whole) + static_cast<double>(rest) / 1e9) * 1000;
    absl::StrAppendFormat(&out, "%.2f,%s,%s\n", ms, GoCodeName(call.code), error);
  }
  return out;
}

}  // namespace handoff::load
