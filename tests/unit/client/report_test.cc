// The load report: percentiles, histogram, and ghz's JSON and text layouts.
#include "client/load/report.h"

#include <algorithm>
#include <numeric>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/json_text.h"
#include "influx_tags.h"

namespace handoff::load {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::vector<int64_t> OneToN(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1);
  return v;
}

RunResults Results(const std::vector<int64_t>& latencies_ns) {
  RunResults r;
  for (int64_t l : latencies_ns) r.calls.push_back({l, grpc::StatusCode::OK, 0});
  r.start = absl::FromUnixSeconds(1'700'000'000);
  r.total = absl::Seconds(2);
  return r;
}

Struct ParseJson(const std::string& json) {
  Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

TEST(PercentileTest, NearestRankOnOneToHundred) {
  const auto v = OneToN(100);
  EXPECT_EQ(Percentile(v, 10), 10);
  EXPECT_EQ(Percentile(v, 50), 50);
  EXPECT_EQ(Percentile(v, 99), 99);
  EXPECT_EQ(Percentile(v, 99.9), 100);
  EXPECT_EQ(Percentile(v, 100), 100);
}

TEST(PercentileTest, TailPercentilesNeedEnoughCalls) {
  const auto v = OneToN(10'000);
  EXPECT_EQ(Percentile(v, 99), 9'900);
  EXPECT_EQ(Percentile(v, 99.9), 9'990);
  EXPECT_EQ(Percentile(v, 99.99), 9'999);
}

TEST(PercentileTest, ExactRankIsNotRoundedUp) {
  // 99.9% of 1000 is rank 999 exactly; floating point must not make it 1000.
  EXPECT_EQ(Percentile(OneToN(1000), 99.9), 999);
}

// Nor for a long run: 99.9% of 20,000,000 came to 19,980,000.0000000037 in
// floating point, past a fixed guard, and so to the rank after.
TEST(PercentileTest, ExactRankIsNotRoundedUpInALongRun) {
  const auto v = OneToN(20'000'000);
  EXPECT_EQ(Percentile(v, 99.9), 19'980'000);
  EXPECT_EQ(Percentile(v, 99.99), 19'998'000);
  EXPECT_EQ(Percentile(v, 10), 2'000'000);
}

TEST(PercentileTest, SingleValue) {
  EXPECT_EQ(Percentile({42}, 10), 42);
  EXPECT_EQ(Percentile({42}, 99.99), 42);
}

TEST(HistogramTest, ElevenEvenMarksFromFastestToSlowest) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i <= 100; ++i) v.push_back(1000 + i * 10);  // 1000..2000 ns
  const auto h = Histogram(v);
  ASSERT_EQ(h.size(), 11u);
  EXPECT_DOUBLE_EQ(h.front().mark_seconds, 1000e-9);
  EXPECT_DOUBLE_EQ(h.back().mark_seconds, 2000e-9);
  int64_t total = 0;
  double frequency = 0;
  for (const Bucket& b : h) {
    total += b.count;
    frequency += b.frequency;
  }
  EXPECT_EQ(total, 101);
  EXPECT_NEAR(frequency, 1.0, 1e-9);
  EXPECT_EQ(h[0].count, 1);   // exactly the fastest
  EXPECT_EQ(h[1].count, 10);  // (1000, 1100]
}

TEST(HistogramTest, AllEqualLatencies) {
  const auto h = Histogram({5, 5, 5});
  ASSERT_EQ(h.size(), 11u);
  EXPECT_EQ(h[0].count, 3);
}

TEST(HistogramTest, NoLatenciesMakeNoBuckets) { EXPECT_TRUE(Histogram({}).empty()); }

TEST(BuildReportTest, CountsEveryCallAndTimesTheOkOnes) {
  RunResults r = Results({1'000'000, 2'000'000, 3'000'000, 4'000'000});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.calls.push_back({5'000'000, grpc::StatusCode::UNAVAILABLE, 0});
  r.calls.push_back({6'000'000, grpc::StatusCode::UNAVAILABLE, 0});
  const Report report = BuildReport(std::move(r), "smoke");
  // Count, rate and the average take every call; the other latency
  // figures, as in ghz, the OK ones only.
  EXPECT_EQ(report.count, 6u);
  EXPECT_EQ(report.total_ns, 2'000'000'000);
  EXPECT_DOUBLE_EQ(report.rps, 3.0);
  EXPECT_EQ(report.fastest_ns, 1'000'000);
  EXPECT_EQ(report.slowest_ns, 4'000'000);
  EXPECT_EQ(report.average_ns, 3'500'000);
  EXPECT_EQ(report.status_code_distribution.at("OK"), 4);
  EXPECT_EQ(report.status_code_distribution.at("Unavailable"), 2);
  EXPECT_EQ(report.error_distribution.at("rpc error: code = Unavailable desc = down"), 2);
  ASSERT_EQ(report.latency_distribution.size(), 9u);
  EXPECT_EQ(report.latency_distribution[2].percentage, 50);
  EXPECT_EQ(report.latency_distribution[2].latency_ns, 2'000'000);
  int64_t in_histogram = 0;
  for (const Bucket& b : report.histogram) in_histogram += b.count;
  EXPECT_EQ(in_histogram, 4);
}

TEST(BuildReportTest, CountErrorsPutsEveryCallInTheLatencyFigures) {
  RunResults r = Results({1'000'000, 2'000'000, 3'000'000, 4'000'000});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.calls.push_back({5'000'000, grpc::StatusCode::UNAVAILABLE, 0});
  r.calls.push_back({6'000'000, grpc::StatusCode::UNAVAILABLE, 0});
  const Report report = BuildReport(std::move(r), "", LatencyStats::kAllCalls);
  EXPECT_EQ(report.count, 6u);
  EXPECT_EQ(report.fastest_ns, 1'000'000);
  EXPECT_EQ(report.slowest_ns, 6'000'000);
  EXPECT_EQ(report.average_ns, 3'500'000);
  EXPECT_EQ(report.latency_distribution[2].latency_ns, 3'000'000);
  int64_t in_histogram = 0;
  for (const Bucket& b : report.histogram) in_histogram += b.count;
  EXPECT_EQ(in_histogram, 6);
}

TEST(BuildReportTest, ARunOfOnlyErrorsHasNoLatencyFigures) {
  RunResults r = Results({});
  r.errors.push_back("rpc error: code = ResourceExhausted desc = full");
  r.calls.push_back({100'000, grpc::StatusCode::RESOURCE_EXHAUSTED, 0});
  r.calls.push_back({200'000, grpc::StatusCode::RESOURCE_EXHAUSTED, 0});
  const Report ok_only = BuildReport(r);
  EXPECT_EQ(ok_only.count, 2u);
  EXPECT_DOUBLE_EQ(ok_only.rps, 1.0);
  EXPECT_EQ(ok_only.fastest_ns, 0);
  EXPECT_EQ(ok_only.slowest_ns, 0);
  EXPECT_EQ(ok_only.average_ns, 150'000);  // ghz's Average is every call's
  EXPECT_TRUE(ok_only.latency_distribution.empty());
  EXPECT_TRUE(ok_only.histogram.empty());
  EXPECT_EQ(ok_only.status_code_distribution.at("ResourceExhausted"), 2);
  const Report all = BuildReport(std::move(r), "", LatencyStats::kAllCalls);
  EXPECT_EQ(all.fastest_ns, 100'000);
  EXPECT_EQ(all.slowest_ns, 200'000);
}

TEST(BuildReportTest, NoCalls) {
  const Report report = BuildReport(Results({}));
  EXPECT_EQ(report.count, 0u);
  EXPECT_EQ(report.fastest_ns, 0);
  EXPECT_TRUE(report.latency_distribution.empty());
  EXPECT_TRUE(report.histogram.empty());
  EXPECT_NE(FormatSummary(report).find("Count:\t0"), std::string::npos);
}

TEST(FormatJsonTest, HasGhzFieldsInNanoseconds) {
  RunResults r = Results(OneToN(1000));
  r.errors.push_back("rpc error: code = Internal desc = \"quoted\"");
  r.calls.push_back({2000, grpc::StatusCode::INTERNAL, 0});
  LoadOptions o;
  o.host = "127.0.0.1:1";
  o.call = "handoff.v1.Gateway.Echo";
  for (bool pretty : {false, true}) {
    const Struct s = ParseJson(FormatJson(BuildReport(r, "n"), o, pretty));
    const auto& f = s.fields();
    EXPECT_EQ(f.at("count").number_value(), 1001);
    EXPECT_EQ(f.at("total").number_value(), 2e9);
    // Latencies of the 1000 OK calls; the error's 2000 ns is left out, but
    // from the average, which, as ghz's, takes every call.
    EXPECT_EQ(f.at("fastest").number_value(), 1);
    EXPECT_EQ(f.at("slowest").number_value(), 1000);
    EXPECT_EQ(f.at("average").number_value(), (500500 + 2000) / 1001);
    EXPECT_NEAR(f.at("rps").number_value(), 500.5, 1e-6);
    EXPECT_EQ(f.at("name").string_value(), "n");
    // When the run ended, as ghz dates its report: 2 s after it began.
    EXPECT_EQ(f.at("date").string_value(), "2023-11-14T22:13:22Z");
    const auto& options = f.at("options").struct_value().fields();
    EXPECT_EQ(options.at("call").string_value(), "handoff.v1.Gateway.Echo");
    EXPECT_FALSE(options.contains("skipFirst"));
    EXPECT_FALSE(options.contains("count-errors"));
    EXPECT_EQ(f.at("statusCodeDistribution").struct_value().fields().at("OK").number_value(),
              1000);
    EXPECT_EQ(f.at("statusCodeDistribution").struct_value().fields().at("Internal").number_value(),
              1);
    EXPECT_EQ(f.at("errorDistribution")
                  .struct_value()
                  .fields()
                  .at("rpc error: code = Internal desc = \"quoted\"")
                  .number_value(),
              1);
    const auto& dist = f.at("latencyDistribution").list_value().values();
    ASSERT_EQ(dist.size(), 7);
    EXPECT_EQ(dist[6].struct_value().fields().at("percentage").number_value(), 99);
    EXPECT_EQ(dist[2].struct_value().fields().at("latency").number_value(), 500);
    const auto& tail = f.at("tailLatencyDistribution").list_value().values();
    ASSERT_EQ(tail.size(), 2);
    EXPECT_EQ(tail[0].struct_value().fields().at("percentage").number_value(), 99.9);
    EXPECT_EQ(tail[1].struct_value().fields().at("percentage").number_value(), 99.99);
    const auto& hist = f.at("histogram").list_value().values();
    ASSERT_EQ(hist.size(), 11);
    EXPECT_DOUBLE_EQ(hist[0].struct_value().fields().at("mark").number_value(), 1e-9);
    EXPECT_DOUBLE_EQ(hist[10].struct_value().fields().at("mark").number_value(), 1e-6);
  }
}

// ghz's report type (and so ghz-web, or a Go tool that reads ghz's JSON
// into it) takes a percentage as an integer: one 99.9 in
// latencyDistribution failed the whole report with "cannot unmarshal
// number 99.9 into Go struct field LatencyDistribution...percentage of type
// int". The tail has its own field, which such readers pass over.
TEST(FormatJsonTest, LatencyDistributionHoldsOnlyWholePercentagesAsGhzsReadersTakeThem) {
  const Struct s = ParseJson(FormatJson(BuildReport(Results(OneToN(10'000))), {}, false));
  std::vector<std::pair<double, double>> whole, tail;
  for (const Value& point : s.fields().at("latencyDistribution").list_value().values()) {
    whole.emplace_back(point.struct_value().fields().at("percentage").number_value(),
                       point.struct_value().fields().at("latency").number_value());
  }
  for (const Value& point : s.fields().at("tailLatencyDistribution").list_value().values()) {
    tail.emplace_back(point.struct_value().fields().at("percentage").number_value(),
                      point.struct_value().fields().at("latency").number_value());
  }
  EXPECT_EQ(whole, (std::vector<std::pair<double, double>>{{10, 1'000},
                                                           {25, 2'500},
                                                           {50, 5'000},
                                                           {75, 7'500},
                                                           {90, 9'000},
                                                           {95, 9'500},
                                                           {99, 9'900}}));
  EXPECT_EQ(tail, (std::vector<std::pair<double, double>>{{99.9, 9'990}, {99.99, 9'999}}));
}

TEST(JsonQuotedTest, BytesThatAreNotUtf8AreWrittenAsGoWritesThem) {
  EXPECT_EQ(JsonQuoted("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonQuoted("a\xff" "b"), "\"a\\ufffdb\"");
  EXPECT_EQ(JsonQuoted("\xe2\x82"), "\"\\ufffd\\ufffd\"");              // cut short
  EXPECT_EQ(JsonQuoted("\xc0\xaf"), "\"\\ufffd\\ufffd\"");              // overlong
  EXPECT_EQ(JsonQuoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(JsonQuoted("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // past U+10FFFF
}

TEST(JsonQuotedTest, HtmlSafeAsGoEscapesWhatGosMarshalEscapes) {
  const std::string s = "<a&b> \b\f\x01 \xe2\x80\xa8\xe2\x80\xa9 \xc3\xa9";
  EXPECT_EQ(JsonQuoted(s, HtmlSafe::kAsGo),
            "\"\\u003ca\\u0026b\\u003e \\b\\f\\u0001 \\u2028\\u2029 \xc3\xa9\"");
  // Unasked, a log line keeps them readable.
  EXPECT_EQ(JsonQuoted(s),
            "\"<a&b> \\b\\f\\u0001 \xe2\x80\xa8\xe2\x80\xa9 \xc3\xa9\"");
}

TEST(FormatJsonTest, AnErrorTextThatIsNotUtf8StillMakesAReportThatParses) {
  RunResults r = Results({1000});
  r.errors.push_back("rpc error: code = Internal desc = \xff\xfe");
  r.calls.push_back({2000, grpc::StatusCode::INTERNAL, 0});
  LoadOptions o;
  const Struct s = ParseJson(FormatJson(BuildReport(std::move(r)), o, false));
  EXPECT_EQ(s.fields()
                .at("errorDistribution")
                .struct_value()
                .fields()
                .at("rpc error: code = Internal desc = \xef\xbf\xbd\xef\xbf\xbd")
                .number_value(),
            1);
}

TEST(FormatJsonTest, OptionsCarrySkipFirstAndCountErrorsWhenSet) {
  LoadOptions o;
  o.skip_first = 100;
  o.count_errors = true;
  const Struct s = ParseJson(FormatJson(BuildReport(Results({1})), o, false));
  const auto& options = s.fields().at("options").struct_value().fields();
  EXPECT_EQ(options.at("skipFirst").number_value(), 100);
  EXPECT_TRUE(options.at("count-errors").bool_value());
  EXPECT_FALSE(options.contains("async"));
  // Not omitempty in ghz's type: there, const, when no schedule is given.
  EXPECT_EQ(options.at("concurrency-schedule").string_value(), "const");
}

// A -z run ignores -n; ghz's report says so with the count it ran by,
// math.MaxInt32, in the JSON options, the InfluxDB line's n and the
// Prometheus labels alike. An -x run makes its -n calls, and reports them.
TEST(FormatJsonTest, ADurationRunReportsGhzsTotalNotTheIgnoredN) {
  LoadOptions o;
  o.total = 500;
  o.duration = absl::Seconds(10);
  const Report report = BuildReport(Results({1}));
  const Struct s = ParseJson(FormatJson(report, o, false));
  const auto& options = s.fields().at("options").struct_value().fields();
  EXPECT_EQ(options.at("total").number_value(), 2147483647);
  EXPECT_EQ(options.at("duration").number_value(), 10e9);
  EXPECT_TRUE(absl::StrContains(FormatInfluxSummary(report, o), ",n=2147483647,"));
  EXPECT_TRUE(absl::StrContains(FormatPrometheus(report, o), R"(,total="2147483647",)"));

  LoadOptions max_duration;
  max_duration.total = 500;
  max_duration.max_duration = absl::Seconds(10);
  const Struct x = ParseJson(FormatJson(report, max_duration, false));
  EXPECT_EQ(x.fields().at("options").struct_value().fields().at("total").number_value(), 500);
}

TEST(FormatJsonTest, OptionsCarryAsyncAndTheConcurrencyScheduleWhenSet) {
  LoadOptions o;
  o.async = true;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = 5;
  o.concurrency_step = 5;
  o.concurrency_end = 50;
  o.concurrency_step_duration = absl::Seconds(5);
  const Struct s = ParseJson(FormatJson(BuildReport(Results({1})), o, false));
  const auto& options = s.fields().at("options").struct_value().fields();
  EXPECT_TRUE(options.at("async").bool_value());
  EXPECT_EQ(options.at("concurrency-schedule").string_value(), "step");
  EXPECT_EQ(options.at("concurrency-end").number_value(), 50);
  EXPECT_EQ(options.at("concurrency-step-duration").number_value(), 5e9);
}

TEST(FormatJsonTest, AFractionalRateIsLeftOutOfGhzsIntegerKeysAndKeptUnderFractionalRates) {
  LoadOptions o;
  o.rps = 2.5;
  o.load_schedule = LoadSchedule::kStep;
  o.load_start = 0.5;
  o.load_step = 2;
  o.load_end = 10.25;
  const Struct s = ParseJson(FormatJson(BuildReport(Results({1})), o, false));
  const auto& options = s.fields().at("options").struct_value().fields();
  EXPECT_FALSE(options.contains("rps"));
  EXPECT_FALSE(options.contains("load-start"));
  EXPECT_FALSE(options.contains("load-end"));
  EXPECT_EQ(options.at("load-step").number_value(), 2);
  const auto& fractional = options.at("fractionalRates").struct_value().fields();
  EXPECT_EQ(fractional.at("rps").number_value(), 2.5);
  EXPECT_EQ(fractional.at("load-start").number_value(), 0.5);
  EXPECT_EQ(fractional.at("load-end").number_value(), 10.25);
  EXPECT_FALSE(fractional.contains("load-step"));
}

// ghz writes its report's date with Go's time.RFC3339: whole seconds.
TEST(FormatJsonTest, DateInWholeSecondsAsGhzWritesIt) {
  RunResults r = Results({1});
  r.total = absl::Milliseconds(2'750);
  const Struct s = ParseJson(FormatJson(BuildReport(std::move(r)), LoadOptions{}, false));
  EXPECT_EQ(s.fields().at("date").string_value(), "2023-11-14T22:13:22Z");
}

TEST(FormatJsonTest, WholeRatesStayUnderGhzsKeysAsIntegers) {
  LoadOptions o;
  o.rps = 200;
  const std::string json = FormatJson(BuildReport(Results({1})), o, false);
  EXPECT_TRUE(absl::StrContains(json, R"("rps":200,)")) << json;
  EXPECT_FALSE(absl::StrContains(json, "fractionalRates")) << json;
}

// ghz's Report.MarshalJSON wraps the report in a struct whose own "date"
// (RFC 3339 text) comes before the embedded report's fields, so Go writes
// it first; then the report's fields in their declared order, "tags" last.
TEST(FormatJsonTest, TopLevelKeysInGhzsOrderDateFirstAndTagsLast) {
  LoadOptions o;
  o.tags = {{"env", "ci"}};
  const std::string json = FormatJson(BuildReport(Results({1}), "n"), o, false);
  EXPECT_TRUE(absl::StartsWith(json, R"({"date":"2023-11-14T22:13:22Z","name":"n",)")) << json;
  EXPECT_TRUE(absl::EndsWith(json, R"(,"tags":{"env":"ci"}})" "\n")) << json;
  size_t at = 0;
  for (const char* key : {R"("endReason":)", R"("options":)", R"(},"count":)", R"(,"total":)",
                          R"(,"average":)", R"(,"fastest":)", R"(,"slowest":)", R"(,"rps":)",
                          R"(,"errorDistribution":)", R"(,"statusCodeDistribution":)",
                          R"(,"latencyDistribution":)", R"(,"tailLatencyDistribution":)",
                          R"(,"histogram":)", R"(,"tags":)"}) {
    const size_t next = json.find(key, at);
    ASSERT_NE(next, std::string::npos) << key << " not after offset " << at << " in " << json;
    at = next;
  }
}

// Go's json.Marshal, and so ghz's report, writes <, > and & in every
// string as \u003c, \u003e and \u0026; a reader that compares the error
// texts or the tags with ghz's sees the same bytes.
TEST(FormatJsonTest, StringsTakeGosHtmlSafeEscapesAsGhzsMarshalWritesThem) {
  RunResults r = Results({1});
  r.errors.push_back("rpc error: code = Internal desc = <a> & b");
  r.calls.push_back({2, grpc::StatusCode::INTERNAL, 0});
  LoadOptions o;
  o.call = "a<b";
  o.tags = {{"k&", "<v>"}};
  const std::string json = FormatJson(BuildReport(std::move(r), "x&y"), o, false);
  for (const char* text :
       {R"("rpc error: code = Internal desc = \u003ca\u003e \u0026 b":1)", R"("name":"x\u0026y")",
        R"("call":"a\u003cb")", R"("tags":{"k\u0026":"\u003cv\u003e"})"}) {
    EXPECT_TRUE(absl::StrContains(json, text)) << "missing " << text << " in " << json;
  }
  EXPECT_EQ(json.find_first_of("<>&"), std::string::npos) << json;
}

// ghz's tags are a Go map, which encoding/json writes with its keys sorted.
TEST(FormatJsonTest, TagsInKeyOrderAsGoWritesAMap) {
  LoadOptions o;
  o.tags = {{"z", "1"}, {"a", "2"}};
  const std::string json = FormatJson(BuildReport(Results({1})), o, false);
  EXPECT_TRUE(absl::EndsWith(json, R"(,"tags":{"a":"2","z":"1"}})" "\n")) << json;
}

// Go's encoding/json writes a float64 in the fewest digits that read back
// to it, and in exponent form (e-7, not e-07) below 1e-6: ghz's rps, marks
// and frequencies so.
TEST(FormatJsonTest, FloatsAsGosEncodingJsonWritesThem) {
  Report r;
  r.rps = 1.0 / 3;
  r.histogram = {{2.5e-7, 1, 1e-7}, {0.000026093, 3, 0.25}, {0.043494999999999992, 0, 0},
                 {1.5, 2, 1}};
  const std::string json = FormatJson(r, LoadOptions{}, false);
  for (const char* text : {R"("rps":0.3333333333333333,)",
                           R"({"mark":2.5e-7,"count":1,"frequency":1e-7})",
                           R"({"mark":0.000026093,"count":3,"frequency":0.25})",
                           R"({"mark":0.04349499999999999,"count":0,"frequency":0})",
                           R"({"mark":1.5,"count":2,"frequency":1})"}) {
    EXPECT_TRUE(absl::StrContains(json, text)) << "missing " << text << " in " << json;
  }
}

// ghz takes the rate as count / total.Seconds() (whole seconds plus the
// rest over 1e9) and its marks in float seconds, fastest + (slowest -
// fastest) / 10 * i: the same doubles here, to the last bit its JSON shows.
TEST(BuildReportTest, RateAndMarksAreTheDoublesGhzComputes) {
  RunResults r = Results({26'093'000, 30'000'000, 69'598'000});
  r.total = absl::Nanoseconds(1'000'064'438);
  const Report report = BuildReport(std::move(r));
  EXPECT_EQ(report.rps, 2.999806698455965);
  ASSERT_EQ(report.histogram.size(), 11u);
  EXPECT_EQ(report.histogram[4].mark_seconds, 0.043494999999999992);
  EXPECT_EQ(Histogram({26'093'000, 30'000'000})[1].mark_seconds, 0.026483700000000002);
}

// ghz's options object: its Options struct's keys in declared order, the
// omitempty ones left out when zero (rps 0, -t 0, no -z), the others always
// there (insecure, the load and concurrency schedules, binary, CPUs).
TEST(FormatJsonTest, OptionsAreGhzsKeysInGhzsOrder) {
  LoadOptions o;
  o.host = "127.0.0.1:50051";
  o.call = "handoff.v1.Gateway.Echo";
  o.insecure = true;
  std::string json = FormatJson(BuildReport(Results({1})), o, false);
  EXPECT_TRUE(absl::StrContains(
      json,
      R"("options":{"call":"handoff.v1.Gateway.Echo","host":"127.0.0.1:50051","insecure":true,)"
      R"("load-schedule":"const","load-start":0,"load-end":0,"load-step":0,)"
      R"("load-step-duration":0,"load-max-duration":0,"concurrency":50,)"
      R"("concurrency-schedule":"const","concurrency-start":0,"concurrency-end":0,)"
      R"("concurrency-step":1,"concurrency-step-duration":0,"concurrency-max-duration":0,)"
      R"("total":200,"connections":1,"timeout":20000000000,"dial-timeout":10000000000,)"
      R"("binary":false,"CPUs":0},)"))
      << json;

  o.proto = "protos/x.proto";
  o.import_paths = {"a"};
  o.enable_compression = true;
  o.cacert = "ca.pem";
  o.cert = "c.pem";
  o.key = "c.key";
  o.cname = "cn";
  o.skip_tls = true;
  o.insecure = false;
  o.authority = "au";
  o.rps = 100;
  o.load_schedule = LoadSchedule::kLine;  // ghz steps a line each second
  o.load_start = 10;
  o.load_end = 50;
  o.load_step = 5;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = 5;
  o.concurrency_end = 50;
  o.concurrency_step = 5;
  o.concurrency_step_duration = absl::Seconds(5);
  o.duration = absl::Seconds(10);
  o.async = true;
  o.connections = 2;
  o.timeout = absl::ZeroDuration();
  o.connect_timeout = absl::Seconds(5);
  o.keepalive = absl::Seconds(30);
  o.data = R"({"b": 1, "a": "<"})";
  o.metadata = {{"k", "v"}};
  o.metadata_as_given = {{"k", "v"}};
  o.metadata_set = true;
  o.cpus = 2;
  o.name = "run";
  o.skip_first = 3;
  o.count_errors = true;
  json = FormatJson(BuildReport(Results({1}), "run"), o, false);
  EXPECT_TRUE(absl::StrContains(
      json,
      R"("options":{"call":"handoff.v1.Gateway.Echo","host":"127.0.0.1:50051",)"
      R"("proto":"protos/x.proto","import-paths":["protos",".","a"],"enable-compression":true,)"
      R"("cacert":"ca.pem","cert":"c.pem","key":"c.key","cname":"cn","skipTLS":true,)"
      R"("insecure":false,"authority":"au","rps":100,"load-schedule":"line","load-start":10,)"
      R"("load-end":50,"load-step":5,"load-step-duration":1000000000,"load-max-duration":0,)"
      R"("concurrency":50,"concurrency-schedule":"step","concurrency-start":5,)"
      R"("concurrency-end":50,"concurrency-step":5,"concurrency-step-duration":5000000000,)"
      R"("concurrency-max-duration":0,"total":2147483647,"async":true,"connections":2,)"
      R"("duration":10000000000,"dial-timeout":5000000000,"keepalive":30000000000,)"
      R"("data":{"a":"\u003c","b":1},"binary":false,"metadata":{"k":"v"},"CPUs":2,)"
      R"("name":"run","skipFirst":3,"count-errors":true},)"))
      << json;

  // Binary requests have no data to write back; -B is binary too.
  LoadOptions b;
  b.binary_file = "req.bin";
  b.data = R"({"a":1})";
  json = FormatJson(BuildReport(Results({1})), b, false);
  EXPECT_TRUE(absl::StrContains(json, R"("binary":true,"CPUs":0})")) << json;
  EXPECT_FALSE(absl::StrContains(json, R"("data":)")) << json;
}

// ghz's pretty is json.Indent over the whole report, the request data in
// the options too: every nested object and array on lines of its own.
TEST(FormatJsonTest, PrettyIndentsEveryLevelAsGosIndentDoes) {
  LoadOptions o;
  o.data = R"({"a":[1,2],"e":{}})";
  const std::string json = FormatJson(BuildReport(Results({1})), o, true);
  EXPECT_TRUE(absl::StrContains(json,
                                "    \"data\": {\n"
                                "      \"a\": [\n"
                                "        1,\n"
                                "        2\n"
                                "      ],\n"
                                "      \"e\": {}\n"
                                "    },\n"))
      << json;
  EXPECT_TRUE(absl::StartsWith(json, "{\n  \"date\": \"2023-11-14T22:13:22Z\",\n")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\n  \"errorDistribution\": {},\n")) << json;
  EXPECT_TRUE(absl::EndsWith(json, "\n  ]\n}\n")) << json;
}

// A run with no latency figures (no OK call, no --count-errors) leaves
// ghz's slices nil, which Go writes as null, not [].
TEST(FormatJsonTest, NoLatencyFiguresAreNullAsGhzsNilSlicesAre) {
  RunResults r = Results({});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.calls.push_back({100, grpc::StatusCode::UNAVAILABLE, 0});
  const std::string json = FormatJson(BuildReport(std::move(r)), LoadOptions{}, false);
  EXPECT_TRUE(absl::EndsWith(json, R"(,"latencyDistribution":null,)"
                                   R"("tailLatencyDistribution":null,"histogram":null})" "\n"))
      << json;
}

// ghz's summary template, to the byte: after the latency lines a blank
// line, the status codes, a newline, the errors if any, and a last
// newline, so a summary ends with a blank line (two without errors).
TEST(FormatSummaryTest, WholeTextAsGhzsTemplateWritesIt) {
  Report r;
  r.count = 2;
  r.total_ns = 2'000'000'000;
  r.slowest_ns = r.fastest_ns = r.average_ns = 1'000'000;
  r.rps = 1;
  r.latency_distribution = {{10, 1'000'000}};
  r.histogram = {{0.001, 1, 0.5}};
  r.status_code_distribution = {{"OK", 1}, {"Unavailable", 1}};
  r.error_distribution = {{"rpc error: code = Unavailable desc = down", 1}};
  std::string bars;
  for (int i = 0; i < 40; ++i) bars += "\u220e";
  const std::string head =
      "\nSummary:\n  Count:\t2\n  Total:\t2.00 s\n  Slowest:\t1.00 ms\n  Fastest:\t1.00 ms\n"
      "  Average:\t1.00 ms\n  Requests/sec:\t1.00\n\nResponse time histogram:\n  1.000 [1] |" +
      bars + "\n\nLatency distribution:\n  10 % in 1.00 ms \n\nStatus code distribution:\n";
  EXPECT_EQ(FormatSummary(r), head +
                                  "  [OK]            1 responses   \n"
                                  "  [Unavailable]   1 responses   \n"
                                  "\nError distribution:\n"
                                  "  [1]   rpc error: code = Unavailable desc = down   \n\n");
  r.error_distribution.clear();
  r.status_code_distribution = {{"OK", 2}};
  EXPECT_EQ(FormatSummary(r), head + "  [OK]   2 responses   \n\n\n");

  Report none;
  EXPECT_TRUE(absl::EndsWith(FormatSummary(none),
                             "\n\nResponse time histogram:\n\nLatency distribution:\n\n\n\n"))
      << FormatSummary(none);
}

TEST(FormatSummaryTest, GhzLayout) {
  RunResults r = Results({26'093'000, 30'000'000, 69'598'000});
  r.total = absl::Microseconds(181'570);
  const std::string s = FormatSummary(BuildReport(std::move(r)));
  for (const char* line : {"\nSummary:\n", "  Count:\t3\n", "  Total:\t181.57 ms\n",
                           "  Slowest:\t69.60 ms\n", "  Fastest:\t26.09 ms\n",
                           "  Requests/sec:\t16.52\n", "\nResponse time histogram:\n",
                           "  26.093 [1] |", "\nLatency distribution:\n",
                           "  10 % in 26.09 ms \n", "  99.99 % in 69.60 ms \n",
                           "\nStatus code distribution:\n", "  [OK]   3 responses   \n"}) {
    EXPECT_TRUE(absl::StrContains(s, line)) << "missing '" << line << "' in\n" << s;
  }
  EXPECT_FALSE(absl::StrContains(s, "Error distribution"));
}

// ghz prints a duration in the unit that suits it (its formatNanoUnit):
// below 10 us in whole nanoseconds, below a second in milliseconds, else in
// seconds, two decimals each.
TEST(FormatSummaryTest, DurationsInGhzsUnits) {
  RunResults r = Results({8'123, 10'000, 2'500'000'000});
  r.total = absl::Milliseconds(10'004);
  const std::string s = FormatSummary(BuildReport(std::move(r)));
  for (const char* line : {"  Total:\t10.00 s\n", "  Slowest:\t2.50 s\n",
                           "  Fastest:\t8123 ns\n", "  Average:\t833.34 ms\n",
                           "  10 % in 8123 ns \n", "  50 % in 0.01 ms \n",
                           "  99 % in 2.50 s \n"}) {
    EXPECT_TRUE(absl::StrContains(s, line)) << "missing '" << line << "' in\n" << s;
  }
}

// ghz scales each bar to 40 at the fullest bucket, rounding to the nearest
// bar: its docs' histogram draws 1 call of 78 as one bar and 52 as 27.
TEST(FormatSummaryTest, HistogramBarsRoundToTheNearestAsGhzsDo) {
  Report r;
  r.histogram = {{0.026093, 1, 0}, {0.030444, 52, 0}, {0.034794, 78, 0}};
  const std::string s = FormatSummary(r);
  auto bars = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "\u220e";
    return out;
  };
  for (const std::string& line : {"  26.093 [1]  |" + bars(1) + "\n",
                                  "  30.444 [52] |" + bars(27) + "\n",
                                  "  34.794 [78] |" + bars(40) + "\n"}) {
    EXPECT_TRUE(absl::StrContains(s, line)) << "missing '" << line << "' in\n" << s;
  }
}

// ghz pads each histogram mark and count to the widest (its #304: tabs left
// the bars ragged once the counts or marks grew), then draws " |".
TEST(FormatSummaryTest, HistogramColumnsAlignAsGhzPadsThem) {
  Report r;
  r.histogram = {{0.000098, 1, 0}, {0.001091, 365741, 0}, {0.010020, 12, 0}};
  const std::string s = FormatSummary(r);
  for (const char* line : {"  0.098  [1]      |\n", "  1.091  [365741] |", "  10.020 [12]     |\n"}) {
    EXPECT_TRUE(absl::StrContains(s, line)) << "missing '" << line << "' in\n" << s;
  }
}

// ghz writes the status code and error distributions through a tabwriter
// (padding 3): each column as wide as its widest cell and three spaces.
TEST(FormatSummaryTest, DistributionColumnsAlignAsGhzsTabwriterDoes) {
  Report r;
  r.status_code_distribution = {{"OK", 186}, {"Unavailable", 3}};
  r.error_distribution = {{"rpc error: code = Unavailable desc = down", 3},
                          {"rpc error: code = Internal desc = x", 12}};
  const std::string s = FormatSummary(r);
  for (const char* line : {"\n  [OK]            186 responses   \n",
                           "\n  [Unavailable]   3 responses     \n",
                           "\n  [12]   rpc error: code = Internal desc = x         \n",
                           "\n  [3]    rpc error: code = Unavailable desc = down   \n"}) {
    EXPECT_TRUE(absl::StrContains(s, line)) << "missing '" << line << "' in\n" << s;
  }
}

TEST(FormatInfluxSummaryTest, OneGhzRunLineWithTheRunsTagsAndFields) {
  RunResults r = Results({100, 200, 300, 400});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.calls.push_back({50, grpc::StatusCode::UNAVAILABLE, 0});
  LoadOptions o;
  o.host = "127.0.0.1:50051";
  o.call = "handoff.v1.Gateway.Echo";
  o.total = 5;
  o.concurrency = 2;
  o.data = R"({"payload":"aGk="})";
  o.metadata_as_given = {{"x-a", "b c"}};
  o.metadata_set = true;
  EXPECT_EQ(FormatInfluxSummary(BuildReport(std::move(r), "nightly run"), o),
            R"(ghz_run,name="nightly\ run",call="handoff.v1.Gateway.Echo",)"
            R"(host="127.0.0.1:50051",n=5,c=2,rps=0,z=0,timeout=20,dial_timeout=10,)"
            R"(keepalive=0,data="{\"payload\":\"aGk\=\"}",metadata="{\"x-a\":\"b\ c\"}",)"
            R"(tags="",errors=1,has_errors=true )"
            // Latencies of the four OK calls; the Unavailable one counts in
            // count, errors and the average only. At the run's end, as ghz's.
            R"(count=5,total=2000000000,average=210,fastest=100,slowest=400,rps=2.50,)"
            R"(median=200,p95=400,errors=1 1700000002000000000)"
            "\n");
}

// The tags a run with a schedule writes for it, from the schedule's name on.
std::string InfluxScheduleTags(const LoadOptions& o) {
  return InfluxTags(FormatInfluxSummary(BuildReport(Results({100})), o), "concurrency-schedule",
                    "z");
}

// ghz writes a schedule's durations with Go's %v, Duration.String(): "0s",
// "1m30s", "2m0s". handoff wrote absl's "0", "1m30s" and "2m", another tag
// value for the same run, which InfluxDB keeps as another series.
TEST(FormatInfluxSummaryTest, ScheduleDurationTagsAreAsGoWritesThem) {
  LoadOptions o;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = 5;
  o.concurrency_step = 5;
  o.concurrency_end = 50;
  o.concurrency_step_duration = absl::Seconds(90);
  o.load_schedule = LoadSchedule::kStep;
  o.load_start = 10;
  o.load_step = 10;
  o.load_step_duration = absl::Milliseconds(1500);
  o.load_max_duration = absl::Minutes(2);
  EXPECT_EQ(InfluxScheduleTags(o),
            "concurrency-schedule=step,concurrency-start=5,concurrency-end=50,"
            "concurrency-step=5,concurrency-step-duration=1m30s,concurrency-max-duration=0s,"
            "load-schedule=step,load-start=10,load-end=0,load-step=10,"
            "load-step-duration=1.5s,load-max-duration=2m0s");
}

// ghz steps a line schedule every second and sets its step duration to 1s
// whatever was given, so its tags say 1s, as handoff's JSON report did;
// handoff's tags wrote the duration as given, 0s or another.
TEST(FormatInfluxSummaryTest, ALineScheduleStepsEachSecondInItsTagsAsGhzsDo) {
  LoadOptions o;
  o.concurrency_schedule = LoadSchedule::kLine;
  o.concurrency_start = 5;
  o.concurrency_end = 50;
  o.concurrency_step_duration = absl::Seconds(5);
  o.load_schedule = LoadSchedule::kLine;
  o.load_start = 10;
  o.load_step = 2;
  o.load_end = 100;
  EXPECT_EQ(InfluxScheduleTags(o),
            "concurrency-schedule=line,concurrency-start=5,concurrency-end=50,"
            "concurrency-step=1,concurrency-step-duration=1s,concurrency-max-duration=0s,"
            "load-schedule=line,load-start=10,load-end=100,load-step=2,"
            "load-step-duration=1s,load-max-duration=0s");
}

// The data= tag of a run with request JSON `data`.
std::string InfluxDataTag(const std::string& data, bool binary = false) {
  LoadOptions o;
  o.data = data;
  o.binary = binary;
  return InfluxTags(FormatInfluxSummary(BuildReport(Results({100})), o), "data", "metadata");
}

TEST(FormatInfluxSummaryTest, DataTagIsTheRequestAsGoWritesItBackAfterReadingIt) {
  // ghz reads -d into a Go value and writes that back as JSON: compact, keys
  // sorted, numbers as float64s, <, > and & as \u escapes; then as a JSON
  // string, escaped for a tag.
  EXPECT_EQ(InfluxDataTag("{\"b\": 1.50,\n"
                          " \"c\": [1e2, true, null, 1e-7, 1e21,\n"
                          "  123456789012345678901, {\"z\": 1, \"y\": \"p q\"}],\n"
                          " \"h\": \"<a&b>\", \"a\": \"later\"}"),
            R"(data="{\"a\":\"later\"\,\"b\":1.5\,\"c\":[100\,true\,null\,1e-7\,1e+21\,123456789012345680000\,{\"y\":\"p\ q\"\,\"z\":1}]\,\"h\":\"\\u003ca\\u0026b\\u003e\"}")");
  EXPECT_EQ(InfluxDataTag("[0.1, 1e-6, 1e20, 5e-324, -2.50E+3]"),
            R"(data="[0.1\,0.000001\,100000000000000000000\,5e-324\,-2500]")");
  // A key given twice: ghz keeps the last value; protobuf's reader of a
  // google.protobuf.Value refuses the object, and so there is no JSON to
  // write back (README says so).
  EXPECT_EQ(InfluxDataTag(R"({"a": "first", "a": "later"})"), R"(data="null")");
  // No JSON to read (none given, or binary requests): Go's nil, null.
  EXPECT_EQ(InfluxDataTag(""), R"(data="null")");
  EXPECT_EQ(InfluxDataTag("", /*binary=*/true), R"(data="null")");
  // Metadata and tags: Go's maps of strings, with Go's escapes too.
  LoadOptions o;
  o.metadata_as_given = {{"k", "<v>"}};
  o.metadata_set = true;
  EXPECT_TRUE(absl::StrContains(FormatInfluxSummary(BuildReport(Results({100})), o),
                                R"(,metadata="{\"k\":\"\\u003cv\\u003e\"}",)"));
  EXPECT_EQ(InfluxDataTag(R"([{"s":"\u00e9\n\u2028"}])"),
            "data=\"[{\\\"s\\\":\\\"\xc3\xa9\\\\n\\\\u2028\\\"}]\"");
}

TEST(FormatInfluxSummaryTest, ProtoCallAndHostAreEscapedSoTheLineStaysWhole) {
  // ghz writes these tags as they are; a space or a comma in a path would
  // end the tag set there, and InfluxDB refuse the line.
  LoadOptions o;
  o.proto = "my protos/a=b,c.proto";
  o.call = "p.S.M";
  o.host = "h:1";
  const std::string line = FormatInfluxSummary(BuildReport(Results({100})), o);
  EXPECT_TRUE(absl::StartsWith(
      line, R"(ghz_run,proto="my\ protos/a\=b\,c.proto",call="p.S.M",host="h:1",n=)"))
      << line;
}

TEST(FormatHtmlTest, OneSelfContainedPageWithEveryFigureEscaped) {
  RunResults r = Results({26'093'000, 30'000'000, 69'598'000});
  r.total = absl::Microseconds(181'570);
  r.errors.push_back("rpc error: code = Internal desc = <b>&'\"</b>");
  r.calls.push_back({1'000, grpc::StatusCode::INTERNAL, 0});
  LoadOptions o;
  o.host = "h:1";
  o.call = "p.S.M";
  const std::string html = FormatHtml(BuildReport(std::move(r), "run <1>"), o);
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n")) << html;
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n")) << html;
  for (const char* piece :
       {"<title>run &lt;1&gt;</title>", "<th>Count</th><td class=\"n\">4</td>",
        "<th>Slowest</th><td class=\"n\">69.60 ms</td>",
        "<th>Requests/sec</th><td class=\"n\">22.03</td>",
        // The tallest bar is the full width; the mark and count beside it.
        "<td class=\"n\">26.093 ms</td><td class=\"n\">1</td>", "style=\"width:100.0%\"",
        "<th>99.99 %</th><td class=\"n\">69.60 ms</td>",
        "<th>Internal</th><td class=\"n\">1</td>",
        "rpc error: code = Internal desc = &lt;b&gt;&amp;&#39;&quot;&lt;/b&gt;"}) {
    EXPECT_TRUE(absl::StrContains(html, piece)) << "missing " << piece << " in\n" << html;
  }
  EXPECT_FALSE(absl::StrContains(html, "<script")) << "nothing to run or fetch";
  EXPECT_FALSE(absl::StrContains(html, "<b>&")) << "an error's text is escaped";
}

// ghz's page ends with an Options block: the run's options as its JSON
// report has them, indented, so a saved page says what run it was. handoff's
// page had none: two pages of different runs could not be told apart.
TEST(FormatHtmlTest, AnOptionsBlockShowsTheRunsOptionsAsGhzsPageDoes) {
  LoadOptions o;
  o.host = "h:1";
  o.call = "p.S.M";
  o.concurrency = 7;
  o.total = 321;
  o.data = R"({"payload":"<x>"})";
  const std::string html = FormatHtml(BuildReport(Results({100}), ""), o);
  const size_t block = html.find("<h2 id=\"options\">Options</h2>\n<pre>");
  ASSERT_NE(block, std::string::npos) << html;
  const std::string options = html.substr(block);
  for (const char* piece :
       {"  &quot;call&quot;: &quot;p.S.M&quot;,\n", "  &quot;host&quot;: &quot;h:1&quot;,\n",
        "  &quot;concurrency&quot;: 7,\n", "  &quot;total&quot;: 321,\n",
        "  &quot;timeout&quot;: 20000000000,\n",
        // The request's own text is escaped, as every figure on the page is.
        "&quot;payload&quot;: &quot;\\u003cx\\u003e&quot;"}) {
    EXPECT_TRUE(absl::StrContains(options, piece)) << "missing " << piece << " in\n" << options;
  }
  EXPECT_TRUE(absl::EndsWith(options, "</pre>\n</body>\n</html>\n")) << "last, as ghz's: " << html;
}

// ghz's page shows --tags under its title, each a name and its value, in
// the names' order (a Go map's). handoff's page left them out: they were in
// the JSON report alone.
TEST(FormatHtmlTest, TheTagsShowUnderTheTitleEscapedInTheirNamesOrder) {
  LoadOptions o;
  o.host = "h:1";
  o.call = "p.S.M";
  o.tags = {{"zone", "<eu>"}, {"build", "a&b"}, {"zone", "us"}};
  const std::string html = FormatHtml(BuildReport(Results({100}), "run"), o);
  const std::string tags =
      "<p class=\"tags\"><span class=\"tag\">build: a&amp;b</span> "
      "<span class=\"tag\">zone: us</span></p>\n";
  EXPECT_TRUE(absl::StrContains(html, "<h1>run</h1>\n" + tags)) << html;
  EXPECT_FALSE(absl::StrContains(html, "&lt;eu&gt;")) << "the last value given wins, as in JSON";
  o.tags.clear();
  EXPECT_FALSE(absl::StrContains(FormatHtml(BuildReport(Results({100}), "run"), o),
                                 "class=\"tags\""));
}

TEST(FormatInfluxDetailsTest, OneGhzDetailLinePerCallAtTheTimeItEnded) {
  RunResults r;
  r.start = absl::FromUnixSeconds(1'700'000'000);
  r.start_ns = 5'000;  // the run's start on the monotonic clock
  r.total = absl::Seconds(1);
  r.errors.push_back("rpc error: code = Unavailable desc = down, for now");
  r.calls.push_back({100, grpc::StatusCode::OK, 0, 5'000 + 1'000});
  r.calls.push_back({250, grpc::StatusCode::UNAVAILABLE, 0, 5'000 + 2'500});
  LoadOptions o;
  o.host = "h:1";
  o.call = "p.S.M";
  o.total = 2;
  o.concurrency = 1;
  const std::string tags =
      R"(call="p.S.M",host="h:1",n=2,c=1,rps=0,z=0,timeout=20,dial_timeout=10,keepalive=0,)"
      R"(data="null",metadata="",tags="")";
  EXPECT_EQ(FormatInfluxDetails(BuildReport(std::move(r)), o),
            "ghz_detail," + tags +
                R"(,hasError=false latency=100,error="",status="OK" 1700000000000001000)" +
                "\n" + "ghz_detail," + tags +
                R"(,hasError=true latency=250,error="rpc\ error:\ code\ \=\ Unavailable\ )"
                R"(desc\ \=\ down\,\ for\ now",status="Unavailable" 1700000000000002500)" +
                "\n");
}

TEST(FormatInfluxDetailsTest, AnErrorsQuoteBackslashOrLineBreakCannotEndTheLine) {
  // ghz escapes an error's spaces, commas and = as it does a tag's, and
  // nothing else: a quote in it ends the field, a line break the line.
  RunResults r = Results({100});
  r.errors.push_back("rpc error: code = Internal desc = \"a\\b\"\nx");
  r.calls.push_back({250, grpc::StatusCode::INTERNAL, 0});
  LoadOptions o;
  const std::string text = FormatInfluxDetails(BuildReport(std::move(r)), o);
  EXPECT_TRUE(absl::StrContains(
      text, R"(,hasError=true latency=250,error="rpc\ error:\ code\ \=\ Internal\ desc\ \=\ )"
            R"(\"a\\b\"\nx",status="Internal" )"))
      << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << "a line per call: " << text;
}

TEST(FormatPrometheusTest, TheSumsAreOfTheCallsTheHistogramCounts) {
  // The failed call counts in the average (ghz's), not in the histogram: its
  // sum is the four OK calls', 1000 ns, not the average (210) times four.
  RunResults r = Results({100, 200, 300, 400});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.calls.push_back({50, grpc::StatusCode::UNAVAILABLE, 0});
  LoadOptions o;
  const std::string text = FormatPrometheus(BuildReport(std::move(r)), o);
  EXPECT_TRUE(absl::StrContains(text, "} 1e-06\nghz_run_histogram_count")) << text;
  EXPECT_TRUE(absl::StrContains(text, "} 1000\nghz_run_latency_count")) << text;
  EXPECT_TRUE(absl::StrContains(text, "} 210\n")) << "the average: " << text;
}

TEST(FormatPrometheusTest, GaugesACumulativeHistogramAndASummary) {
  RunResults r = Results({100, 200, 300, 400});
  LoadOptions o;
  o.host = "h:1";
  o.call = "p.S.M";
  o.tags = {{"env", "ci"}, {"created by", "a \"b\""}, {"name", "clash"}};
  const std::string text = FormatPrometheus(BuildReport(std::move(r), "n"), o);
  const std::string labels =
      R"(name="n",end_reason="normal",call="p.S.M",host="h:1",import_paths="",)"
      R"(skipTLS="false",insecure="false",concurrency="50",total="200",rps="0",)"
      R"(connections="1",CPUs="0",async="false",binary="false",count_errors="false",)"
      R"(skipFirst="0",dial_timeout="10000000000",keepalive="0",)"
      R"(timeout="20000000000",duration="0",env="ci",created_by="a \"b\"")";
  for (const std::string& line : std::vector<std::string>{
           "# TYPE ghz_run_count gauge\nghz_run_count{" + labels + "} 4\n",
           "ghz_run_total{" + labels + "} 2000000000\n",
           "ghz_run_average{" + labels + "} 250\n",
           "ghz_run_rps{" + labels + "} 2\n",
           "# TYPE ghz_run_histogram histogram\n",
           // Cumulative: every call is at or below the last mark.
           "ghz_run_histogram_bucket{" + labels + R"(,le="1e-07"} 1)" + "\n",
           "ghz_run_histogram_bucket{" + labels + R"(,le="4e-07"} 4)" + "\n",
           "ghz_run_histogram_bucket{" + labels + R"(,le="+Inf"} 4)" + "\n",
           "ghz_run_histogram_sum{" + labels + "} 1e-06\n",
           "ghz_run_histogram_count{" + labels + "} 4\n",
           "# TYPE ghz_run_latency summary\n",
           "ghz_run_latency{" + labels + R"(,quantile="0.5"} 200)" + "\n",
           "ghz_run_latency{" + labels + R"(,quantile="0.9999"} 400)" + "\n",
           "ghz_run_latency_sum{" + labels + "} 1000\n",
           "ghz_run_errors{" + labels + "} 0\n"}) {
    EXPECT_TRUE(absl::StrContains(text, line)) << "missing\n" << line << "in\n" << text;
  }
  EXPECT_FALSE(absl::StrContains(text, "clash")) << "a tag may not repeat a label";
}

// ghz labels its series with every option, the '-' in a key made '_', and
// leaves a const schedule's out: a step or line schedule's name, counts and
// durations (in nanoseconds, a line's step 1s) tell its runs' series apart.
// handoff's labels had none, so runs of two schedules were one series.
TEST(FormatPrometheusTest, AConcurrencyScheduleLabelsTheSeriesAsGhzsDoes) {
  LoadOptions o;
  o.concurrency_schedule = LoadSchedule::kLine;
  o.concurrency_start = 5;
  o.concurrency_step = 2;
  o.concurrency_end = 50;
  o.concurrency_max_duration = absl::Seconds(30);
  o.tags = {{"concurrency-end", "a tag"}};
  const std::string text = FormatPrometheus(BuildReport(Results({100}), ""), o);
  EXPECT_TRUE(absl::StrContains(
      text, R"(duration="0",concurrency_schedule="line",concurrency_start="5",)"
            R"(concurrency_end="50",concurrency_step="2",)"
            R"(concurrency_step_duration="1000000000",)"
            R"(concurrency_max_duration="30000000000"})"))
      << text;
  EXPECT_FALSE(absl::StrContains(text, "a tag")) << "a tag may not repeat a label";

  o.concurrency_schedule = LoadSchedule::kConst;
  EXPECT_FALSE(absl::StrContains(FormatPrometheus(BuildReport(Results({100}), ""), o),
                                 "concurrency_schedule"))
      << "as ghz, a const schedule's are left out";
}

// The same for a load schedule: ghz labels a step or line one's options.
TEST(FormatPrometheusTest, ALoadScheduleLabelsTheSeriesAsGhzsDoes) {
  LoadOptions o;
  o.load_schedule = LoadSchedule::kStep;
  o.load_start = 10;
  o.load_step = 10;
  o.load_end = 100;
  o.load_step_duration = absl::Seconds(5);
  const std::string text = FormatPrometheus(BuildReport(Results({100}), ""), o);
  EXPECT_TRUE(absl::StrContains(
      text, R"(duration="0",load_schedule="step",load_start="10",load_end="100",)"
            R"(load_step="10",load_step_duration="5000000000",load_max_duration="0"})"))
      << text;

  o.load_schedule = LoadSchedule::kConst;
  EXPECT_FALSE(absl::StrContains(FormatPrometheus(BuildReport(Results({100}), ""), o),
                                 "load_schedule"))
      << "as ghz, a const schedule's are left out";
}

// ghz labels its series with every option its report holds: how the
// request types were found and the connection made too. handoff's labels
// left these out, so runs against two servers' certificates, or with two
// dial timeouts, were one series.
TEST(FormatPrometheusTest, TypeTlsAndConnectionOptionsLabelTheSeriesAsGhzsDo) {
  LoadOptions o;
  const std::string plain = FormatPrometheus(BuildReport(Results({100}), ""), o);
  for (const char* label : {R"(,import_paths="",)", R"(,skipTLS="false",)",
                            R"(,dial_timeout="10000000000",)", R"(,keepalive="0",)"}) {
    EXPECT_TRUE(absl::StrContains(plain, label)) << "missing " << label << " in\n" << plain;
  }
  for (const char* absent : {"proto", "cacert", "cert=", "key=", "cname", "authority"}) {
    EXPECT_FALSE(absl::StrContains(plain, absent)) << "as ghz's omitempty: " << plain;
  }

  o.proto = "protos/a.proto";
  o.import_paths = {"inc"};
  o.protoset = "a.protoset";
  o.cacert = "ca.pem";
  o.cert = "client.pem";
  o.key = "client.key";
  o.cname = "gw.example";
  o.skip_tls = true;
  o.authority = "gw:443";
  o.connect_timeout = absl::Seconds(3);
  o.keepalive = absl::Seconds(5);
  const std::string text = FormatPrometheus(BuildReport(Results({100}), ""), o);
  for (const char* label :
       {R"(,proto="protos/a.proto",)", R"(,protoset="a.protoset",)",
        R"(,import_paths="protos,.,inc",)", R"(,cacert="ca.pem",)", R"(,cert="client.pem",)",
        R"(,key="client.key",)", R"(,cname="gw.example",)", R"(,skipTLS="true",)",
        R"(,authority="gw:443",)", R"(,dial_timeout="3000000000",)",
        R"(,keepalive="5000000000",)"}) {
    EXPECT_TRUE(absl::StrContains(text, label)) << "missing " << label << " in\n" << text;
  }
}

// And how the calls were made and counted: --async, binary requests,
// --count-errors and --skipFirst, which change what the figures mean.
TEST(FormatPrometheusTest, CallAndCountingOptionsLabelTheSeriesAsGhzsDo) {
  LoadOptions o;
  const std::string plain = FormatPrometheus(BuildReport(Results({100}), ""), o);
  for (const char* label : {R"(,async="false",)", R"(,binary="false",)",
                            R"(,count_errors="false",)", R"(,skipFirst="0",)"}) {
    EXPECT_TRUE(absl::StrContains(plain, label)) << "missing " << label << " in\n" << plain;
  }
  o.async = true;
  o.binary_file = "req.bin";
  o.count_errors = true;
  o.skip_first = 5;
  const std::string text = FormatPrometheus(BuildReport(Results({100}), ""), o);
  for (const char* label : {R"(,async="true",)", R"(,binary="true",)",
                            R"(,count_errors="true",)", R"(,skipFirst="5",)"}) {
    EXPECT_TRUE(absl::StrContains(text, label)) << "missing " << label << " in\n" << text;
  }
}

TEST(FormatPrometheusTest, EqualMarksAreOneBucketNotARepeatedSeries) {
  // One call (or calls all equally fast): the histogram's eleven marks are
  // one latency. Written as eleven buckets, they were eleven samples of one
  // series, which an exposition may not repeat.
  LoadOptions o;
  const std::string text = FormatPrometheus(BuildReport(Results({700'000})), o);
  std::vector<std::string> buckets;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "ghz_run_histogram_bucket")) buckets.emplace_back(line);
  }
  ASSERT_EQ(buckets.size(), 2u) << text;
  EXPECT_TRUE(absl::EndsWith(buckets[0], R"(le="0.0007"} 1)")) << buckets[0];
  EXPECT_TRUE(absl::EndsWith(buckets[1], R"(le="+Inf"} 1)")) << buckets[1];
}

TEST(FormatCsvTest, OneLinePerCall) {
  RunResults r = Results({1'500'000});
  r.errors.push_back("rpc error: code = Canceled desc = a, \"b\"");
  r.calls.push_back({2'000'000, grpc::StatusCode::CANCELLED, 0});
  EXPECT_EQ(FormatCsv(BuildReport(std::move(r))),
            "\nduration (ms),status,error\n"
            "1.50,OK,\n"
            "2.00,Canceled,\"rpc error: code = Canceled desc = a, \"\"b\"\"\"\n");
}

TEST(FormatCsvTest, StartsWithGhzsBlankLineAndQuotesOnlyWhatACsvReaderNeedsQuoted) {
  // ghz's template writes an error as it is: one without a comma, a quote
  // or a line break is written so here too; one with them is quoted, where
  // ghz's line would split into more fields or lines than its header's.
  RunResults r = Results({1'500'000});
  r.errors.push_back("rpc error: code = Unavailable desc = down");
  r.errors.push_back("rpc error: code = Internal desc = line one\nline two");
  r.calls.push_back({2'000'000, grpc::StatusCode::UNAVAILABLE, 0});
  r.calls.push_back({3'000'000, grpc::StatusCode::INTERNAL, 1});
  EXPECT_EQ(FormatCsv(BuildReport(std::move(r))),
            "\nduration (ms),status,error\n"
            "1.50,OK,\n"
            "2.00,Unavailable,rpc error: code = Unavailable desc = down\n"
            "3.00,Internal,\"rpc error: code = Internal desc = line one\nline two\"\n");
}

TEST(FormatCsvTest, MillisecondsRoundAsGhzsSecondsTimesAThousand) {
  // ghz prints Latency.Seconds() * 1000 to two places: 15 us is
  // 0.015000000000000001 ms there, "0.02", where 15000 / 1e6 is "0.01";
  // 35 us and 1005 us go the other way.
  const std::string csv = FormatCsv(BuildReport(Results({15'000, 35'000, 1'005'000})));
  EXPECT_EQ(csv, "\nduration (ms),status,error\n0.02,OK,\n0.03,OK,\n1.01,OK,\n");
}

}  // namespace
}  // namespace handoff::load
