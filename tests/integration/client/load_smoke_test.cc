// CI load smoke test: `handoff load` against a real handoffd at a fixed
// rate for about 3 s (600 calls at 200/s). Every call must succeed, and the
// JSON report is checked field by field. Bounded: -n caps the calls, -t each
// call, and the process itself is killed after 60 s.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "handoffd_process.h"

namespace handoff::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

double Num(const Struct& s, const char* key) {
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "missing field " << key;
  if (it == s.fields().end()) return -1;
  EXPECT_EQ(it->second.kind_case(), Value::kNumberValue) << key;
  return it->second.number_value();
}

TEST(LoadSmokeTest, FixedRateAgainstHandoffd) {
  auto handoffd = StartHandoffd(HANDOFFD, {"--workers=2"});
  ASSERT_TRUE(handoffd.ok()) << handoffd.status();

  constexpr int kRps = 200;
  constexpr int kCalls = 600;  // 3 s at kRps
  ProcessResult r = testing::Run({HANDOFF_CLI, "load", handoffd->address, "--insecure",
                         "--call", "handoff.v1.Gateway.Work",
                         "-d", R"({"cpuUs":100,"payload":"c21va2U="})",
                         "--rps", std::to_string(kRps), "-n", std::to_string(kCalls),
                         "-c", "8", "--connections", "2", "-t", "2s", "-O", "json"},
                        absl::Seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no progress bar when piped

  Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;

  EXPECT_EQ(Num(report, "count"), kCalls);
  // Ticket i starts at i/rps, so the run lasts at least (n-1)/rps. How much
  // longer is the machine's speed, which benchmarks measure, not this test:
  // the upper bound only catches a run that ignores its schedule's end.
  const double total_s = Num(report, "total") / 1e9;
  EXPECT_GE(total_s, (kCalls - 1.0) / kRps);
  EXPECT_LT(total_s, 30.0);
  // The rate the report states is the calls over that time, so never above
  // the schedule's.
  EXPECT_NEAR(Num(report, "rps"), kCalls / total_s, 0.5);
  EXPECT_LE(Num(report, "rps"), kCalls / ((kCalls - 1.0) / kRps));

  const double fastest = Num(report, "fastest");
  const double average = Num(report, "average");
  const double slowest = Num(report, "slowest");
  EXPECT_GT(fastest, 0);
  EXPECT_LE(fastest, average);
  EXPECT_LE(average, slowest);
  EXPECT_LT(slowest, 2e9);  // under the -t deadline

  // Zero errors: only OK in the status codes, nothing in the errors.
  const auto& codes = report.fields().at("statusCodeDistribution").struct_value();
  ASSERT_EQ(codes.fields().size(), 1u) << r.out;
  EXPECT_EQ(Num(codes, "OK"), kCalls);
  EXPECT_TRUE(report.fields().at("errorDistribution").struct_value().fields().empty())
      << r.out;

  // Percentiles: ghz's seven, then 99.9 and 99.99 in a field of their own,
  // ascending, within range.
  std::vector<const Struct*> dist;
  for (const char* key : {"latencyDistribution", "tailLatencyDistribution"}) {
    for (const auto& point : report.fields().at(key).list_value().values()) {
      dist.push_back(&point.struct_value());
    }
  }
  const std::vector<double> want = {10, 25, 50, 75, 90, 95, 99, 99.9, 99.99};
  ASSERT_EQ(dist.size(), want.size());
  double previous = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const Struct& point = *dist[i];
    EXPECT_EQ(Num(point, "percentage"), want[i]);
    const double latency = Num(point, "latency");
    EXPECT_GE(latency, previous);
    EXPECT_GE(latency, fastest);
    EXPECT_LE(latency, slowest);
    previous = latency;
  }

  // Histogram: 11 marks from fastest to slowest (seconds), every call counted.
  const auto& hist = report.fields().at("histogram").list_value().values();
  ASSERT_EQ(hist.size(), 11);
  EXPECT_NEAR(Num(hist[0].struct_value(), "mark"), fastest / 1e9, 1e-9);
  EXPECT_NEAR(Num(hist[10].struct_value(), "mark"), slowest / 1e9, 1e-9);
  double counted = 0, frequency = 0;
  for (const Value& b : hist) {
    counted += Num(b.struct_value(), "count");
    frequency += Num(b.struct_value(), "frequency");
  }
  EXPECT_EQ(counted, kCalls);
  EXPECT_NEAR(frequency, 1.0, 1e-6);

  EXPECT_EQ(report.fields().at("endReason").string_value(), "normal");
  EXPECT_FALSE(report.fields().at("date").string_value().empty());
  const Struct& options = report.fields().at("options").struct_value();
  EXPECT_EQ(options.fields().at("call").string_value(), "handoff.v1.Gateway.Work");
  EXPECT_EQ(Num(options, "rps"), kRps);

  EXPECT_EQ(handoffd->process->Stop(), 0);
}

TEST(LoadSmokeTest, ConnectionsRecycledByMaxConnectionAgeCostNoCall) {
  // handoffd GOAWAYs each connection after 100 ms; 100 calls at 200/s span
  // about 500 ms, so several. Each engine takes a new connection for the
  // next calls and makes again those the GOAWAY refused: no error.
  auto handoffd = StartHandoffd(HANDOFFD, {"--workers=2", "--max_connection_age=100ms"});
  ASSERT_TRUE(handoffd.ok()) << handoffd.status();
  for (const char* engine : {"h2", "grpc"}) {
    ProcessResult r = testing::Run(
        {HANDOFF_CLI, "load", handoffd->address, "--insecure", "--engine", engine,
         "--call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})",
         "--rps", "200", "-n", "100", "-c", "4", "--connections", "2", "-t", "2s",
         "-O", "json"},
        absl::Seconds(60));
    ASSERT_EQ(r.exit_code, 0) << engine << ": " << r.err;
    Struct report;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
    EXPECT_EQ(Num(report, "count"), 100) << engine;
    const auto& codes = report.fields().at("statusCodeDistribution").struct_value();
    EXPECT_EQ(codes.fields().size(), 1u) << engine << ": " << r.out;
    EXPECT_EQ(Num(codes, "OK"), 100) << engine;
  }
  EXPECT_EQ(handoffd->process->Stop(), 0);
}

}  // namespace
}  // namespace handoff::testing
