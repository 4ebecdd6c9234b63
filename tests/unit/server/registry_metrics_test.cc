// Copyright 2026 The handoff Authors.
//
// HandlerRegistry and Metrics: the small pieces.

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_text.h"
#include "gtest/gtest.h"
#include "server/handler_registry.h"
#include "server/metrics.h"

namespace handoff {
namespace {

absl::StatusOr<std::string> Same(const HandlerCall& c) {
  return std::string(c.payload);
}

TEST(HandlerRegistryTest, RegisterFindUnregister) {
  HandlerRegistry r;
  EXPECT_TRUE(r.Register("same", Same).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(r.Register("same", Same)));
  EXPECT_TRUE(absl::IsInvalidArgument(r.Register("", Same)));
  EXPECT_TRUE(absl::IsInvalidArgument(r.Register("null", nullptr)));
  std::shared_ptr<const RegisteredHandler> h = r.Find("same");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->cost, nullptr) << "registered without one";
  Context ctx;
  absl::StatusOr<std::string> out = h->run(HandlerCall{ctx, 0, "abc"});
  EXPECT_EQ(*out, "abc");
  r.Unregister("same");
  EXPECT_EQ(r.Find("same"), nullptr);
  EXPECT_EQ(*h->run(HandlerCall{ctx, 0, "kept"}), "kept");  // the copy lives on
}

// A name no call could reach is refused as it is registered: one that is
// not UTF-8 (a CallRequest naming it does not parse), or one so long that
// the status messages and /metrics labels carrying it would not fit.
TEST(HandlerRegistryTest, ANameNoCallCouldReachIsInvalidArgument) {
  HandlerRegistry r;
  absl::Status s = r.Register(std::string("\xff\xfe", 2), Same);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "not UTF-8")) << s;
  EXPECT_TRUE(absl::IsInvalidArgument(r.Register("caf\xc3", Same)))  // cut short
      << "a sequence cut short";
  s = r.Register(std::string(HandlerRegistry::kMaxNameBytes + 1, 'x'), Same);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "129 bytes, over the limit of 128")) << s;
  EXPECT_TRUE(r.Names().empty());
  EXPECT_TRUE(r.Register(std::string(HandlerRegistry::kMaxNameBytes, 'x'), Same).ok());
  EXPECT_TRUE(r.Register("caf\xc3\xa9", Same).ok()) << "UTF-8 beyond ASCII is a name";
}

// The refusal of a long name quotes its start, as UTF-8 whatever the name:
// it cut the name at byte 32, inside a character, and the message (logged,
// or put in a proto string by whoever registers) was not UTF-8 itself.
TEST(HandlerRegistryTest, ALongNamesRefusalQuotesItsStartAsUtf8) {
  HandlerRegistry r;
  std::string name(31, 'x');
  while (name.size() <= HandlerRegistry::kMaxNameBytes) name += "\xc3\xa9";  // é
  absl::Status s = r.Register(name, Same);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(IsUtf8(s.message())) << absl::CHexEscape(s.message());
  EXPECT_TRUE(absl::StartsWith(s.message(), absl::StrCat("handler name '", std::string(31, 'x'),
                                                         "...' is ", name.size(), " bytes")))
      << s;
  // Neither UTF-8 nor short: escaped, as the refusal of such a name is.
  s = r.Register(std::string(200, '\xff'), Same);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(IsUtf8(s.message())) << absl::CHexEscape(s.message());
}

TEST(HandlerRegistryTest, AHandlersCostIsFoundWithIt) {
  HandlerRegistry r;
  ASSERT_TRUE(r.Register("sized", Same, [](std::string_view payload) {
                 return absl::Milliseconds(static_cast<int64_t>(payload.size()));
               }).ok());
  std::shared_ptr<const RegisteredHandler> h = r.Find("sized");
  ASSERT_NE(h, nullptr);
  ASSERT_NE(h->cost, nullptr);
  EXPECT_EQ(h->cost("abcd"), absl::Milliseconds(4));
}

// Each handler's calls are of a kind of their own, whose cost admission
// learns from their runs: one slow handler must not teach another's.
TEST(HandlerRegistryTest, EachHandlerHasAKindOfItsOwnAndTheyAreListedByName) {
  HandlerRegistry r;
  ASSERT_TRUE(r.Register("slow", Same).ok());
  ASSERT_TRUE(r.Register("fast", Same).ok());
  std::shared_ptr<const RegisteredHandler> slow = r.Find("slow");
  std::shared_ptr<const RegisteredHandler> fast = r.Find("fast");
  ASSERT_NE(slow->kind, nullptr);
  ASSERT_NE(fast->kind, nullptr);
  slow->kind->Learn(absl::Seconds(1));
  EXPECT_EQ(fast->kind->cost(), absl::ZeroDuration());
  EXPECT_EQ(r.Find("slow")->kind->cost(), absl::Seconds(1)) << "one kind per handler";
  auto all = r.Handlers();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, "fast");
  EXPECT_EQ(all[1].first, "slow");
  EXPECT_EQ(all[1].second, slow);
}

TEST(MetricsTest, RendersCallsAndHistogram) {
  Metrics m;
  m.RecordCall(Method::kEcho, absl::StatusCode::kOk, absl::Microseconds(50));
  m.RecordCall(Method::kEcho, absl::StatusCode::kOk, absl::Milliseconds(3));
  m.RecordCall(Method::kWork, absl::StatusCode::kDeadlineExceeded,
               absl::Seconds(20));
  EXPECT_EQ(m.calls(Method::kEcho, absl::StatusCode::kOk), 2);
  GaugeSnapshot g;
  g.queued = 4;
  g.waiting = 2;
  g.idle = 1;
  g.busy = 3;
  g.expired = 9;
  g.rejected_full = 5;
  g.rejected_late = 7;
  g.undeclared_job_cost = absl::Milliseconds(2);
  g.declared_job_overhead = absl::Microseconds(30);
  g.handler_job_cost = {{"resize", absl::Milliseconds(40)},
                        {"odd \"name\"\\\n", absl::ZeroDuration()}};
  g.handler_declared_overhead = {{"resize", absl::Microseconds(500)},
                                 {"odd \"name\"\\\n", absl::ZeroDuration()}};
  std::string text = m.Render(g, "extra_metric 1\n");
  for (const char* want : {
           "# TYPE handoff_calls_total counter",
           "handoff_calls_total{method=\"Echo\",code=\"OK\"} 2",
           "handoff_calls_total{method=\"Work\",code=\"DEADLINE_EXCEEDED\"} 1",
           "handoff_call_duration_seconds_bucket{method=\"Echo\",le=\"0.0001\"} 1",
           "handoff_call_duration_seconds_bucket{method=\"Echo\",le=\"0.005\"} 2",
           "handoff_call_duration_seconds_bucket{method=\"Work\",le=\"10\"} 0",
           "handoff_call_duration_seconds_bucket{method=\"Work\",le=\"+Inf\"} 1",
           "handoff_call_duration_seconds_count{method=\"Echo\"} 2",
           "handoff_queue_depth 4", "\nhandoff_queue_waiters 2\n", "handoff_workers_idle 1",
           "handoff_workers_busy 3", "handoff_jobs_expired_in_queue_total 9",
           "handoff_jobs_rejected_total{reason=\"queue_full\"} 5",
           "handoff_jobs_rejected_total{reason=\"deadline\"} 7",
           "\nhandoff_admission_undeclared_job_cost_seconds 0.002000\n",
           "\nhandoff_admission_declared_job_overhead_seconds 0.000030\n",
           "# TYPE handoff_admission_handler_job_cost_seconds gauge\n",
           "\nhandoff_admission_handler_job_cost_seconds{handler=\"resize\"} 0.040000\n",
           "# TYPE handoff_admission_handler_declared_overhead_seconds gauge\n",
           "\nhandoff_admission_handler_declared_overhead_seconds{handler=\"resize\"} 0.000500\n",
           // A quote, a backslash and a newline in a name, escaped as the
           // text format has them.
           "\nhandoff_admission_handler_job_cost_seconds"
           "{handler=\"odd \\\"name\\\"\\\\\\n\"} 0.000000\n",
           "extra_metric 1"}) {
    EXPECT_TRUE(absl::StrContains(text, want)) << want;
  }
}

// Every method's every code is a series from the first scrape, at 0 until
// counted. A series that first appears at 1 has no earlier sample for
// rate() and increase() to take the difference from: the first INTERNAL
// after a restart never showed in increase(handoff_calls_total{code=
// "INTERNAL"}[1h]), nor the first burst of refusals in an error ratio. So
// every code is exported, as go-grpc-prometheus initialises them.
TEST(MetricsTest, EveryCodeOfEveryMethodIsASeriesFromTheStart) {
  Metrics m;
  m.RecordCall(Method::kCall, absl::StatusCode::kInternal, absl::Milliseconds(1));
  m.RecordCall(Method::kWork, absl::StatusCode::kCancelled, absl::Milliseconds(1),
               /*cancelled_by_client=*/true);
  m.RecordCall(Method::kCall, absl::StatusCode::kCancelled, absl::Milliseconds(1));
  const std::string text = m.Render(GaugeSnapshot{}, "");
  for (const char* want : {"handoff_calls_total{method=\"Call\",code=\"INTERNAL\"} 1\n",
                           // A client's cancel, counted apart too; a handler's
                           // own CANCELLED only under its code.
                           "handoff_calls_total{method=\"Work\",code=\"CANCELLED\"} 1\n",
                           "handoff_calls_total{method=\"Call\",code=\"CANCELLED\"} 1\n",
                           "# TYPE handoff_calls_cancelled_by_client_total counter\n",
                           "handoff_calls_cancelled_by_client_total{method=\"Work\"} 1\n",
                           "handoff_calls_cancelled_by_client_total{method=\"Call\"} 0\n",
                           "handoff_calls_cancelled_by_client_total{method=\"unknown\"} 0\n",
                           "handoff_calls_total{method=\"Echo\",code=\"INTERNAL\"} 0\n",
                           "handoff_calls_total{method=\"Work\",code=\"RESOURCE_EXHAUSTED\"} 0\n",
                           "handoff_calls_total{method=\"Stream\",code=\"UNAVAILABLE\"} 0\n",
                           "handoff_calls_total{method=\"Batch\",code=\"DEADLINE_EXCEEDED\"} 0\n",
                           "handoff_calls_total{method=\"unknown\",code=\"UNIMPLEMENTED\"} 0\n",
                           "handoff_calls_total{method=\"Call\",code=\"UNAUTHENTICATED\"} 0\n"}) {
    EXPECT_TRUE(absl::StrContains(text, want)) << want << " not in:\n" << text;
  }
  size_t series = 0;
  for (size_t at = text.find("\nhandoff_calls_total{"); at != std::string::npos;
       at = text.find("\nhandoff_calls_total{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, static_cast<size_t>(Method::kCount) * Metrics::kCodes);
}

// A stream's latency is its whole life. The sum of 50 calls of 10 years each
// wraps a count of nanoseconds (292 years); the sum must keep counting up.
TEST(MetricsTest, TheLatencySumOfLongCallsDoesNotWrap) {
  Metrics m;
  const absl::Duration decade = absl::Hours(24 * 3650);
  for (int i = 0; i < 50; ++i) {
    m.RecordCall(Method::kStream, absl::StatusCode::kOk, decade);
  }
  const std::string text = m.Render(GaugeSnapshot{}, "");
  const std::string want = absl::StrCat("handoff_call_duration_seconds_sum{method=\"Stream\"} ",
                                        absl::StrFormat("%.6f", 50 * absl::ToDoubleSeconds(decade)),
                                        "\n");
  EXPECT_TRUE(absl::StrContains(text, want)) << want << " not in:\n" << text;
}

}  // namespace
}  // namespace handoff
