// Call templates (ghz's call data): what each action renders, what is
// refused and how, and the per-call requests a run's templates make.
#include "client/load/call_template.h"
#include "client/load/templated_requests.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "handoff/v1/gateway.pb.h"

namespace handoff::load {
namespace {

// A generator with a fixed seed: the same draws every run.
absl::BitGen Seeded() {
  std::seed_seq seed{20261205};
  return absl::BitGen(seed);
}

MethodNames WorkNames() {
  MethodNames m;
  m.fully_qualified_name = "handoff.v1.Gateway.Work";
  m.method_name = "Work";
  m.service_name = "Gateway";
  m.input_name = "WorkRequest";
  m.output_name = "WorkReply";
  m.client_streaming = false;
  m.server_streaming = true;
  return m;
}

std::string Render(absl::string_view text, const CallData& call) {
  auto parsed = CallTemplate::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return "";
  absl::BitGen random = Seeded();
  return parsed->Render(call, random);
}

std::string ParseError(absl::string_view text, bool functions = true) {
  auto parsed = CallTemplate::Parse(text, functions);
  EXPECT_FALSE(parsed.ok()) << text << " parsed";
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

class CallTemplateTest : public ::testing::Test {
 protected:
  CallTemplateTest() {
    call_.method = &names_;
    call_.worker_id = "g3c1";
    call_.request_number = 42;
    call_.timestamp = absl::FromUnixNanos(1'764'900'000'123'456'789);
    call_.uuid = "0b5e8c1e-8d6f-4a53-9a4e-2f1d7c3b9e10";
  }
  MethodNames names_ = WorkNames();
  CallData call_;
};

TEST_F(CallTemplateTest, FieldsRenderTheCallsData) {
  EXPECT_EQ(Render("{{.RequestNumber}} {{.WorkerID}} {{.UUID}}", call_),
            "42 g3c1 0b5e8c1e-8d6f-4a53-9a4e-2f1d7c3b9e10");
  EXPECT_EQ(Render("{{.FullyQualifiedName}}|{{.MethodName}}|{{.ServiceName}}|"
                   "{{.InputName}}|{{.OutputName}}|{{.IsClientStreaming}}|"
                   "{{.IsServerStreaming}}",
                   call_),
            "handoff.v1.Gateway.Work|Work|Gateway|WorkRequest|WorkReply|false|true");
}

TEST_F(CallTemplateTest, TimestampsAreTheCallsTimeInEachUnit) {
  EXPECT_EQ(Render("{{.TimestampUnix}}", call_), "1764900000");
  EXPECT_EQ(Render("{{.TimestampUnixMilli}}", call_), "1764900000123");
  EXPECT_EQ(Render("{{.TimestampUnixNano}}", call_), "1764900000123456789");
  // RFC 3339 to the second, in the local zone, as Go's time.RFC3339.
  const std::string rfc3339 = Render("{{.Timestamp}}", call_);
  absl::Time parsed;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &parsed, &error))
      << rfc3339 << ": " << error;
  EXPECT_EQ(parsed, absl::FromUnixSeconds(1'764'900'000));
  EXPECT_EQ(rfc3339.find('.'), std::string::npos) << "whole seconds: " << rfc3339;
}

TEST_F(CallTemplateTest, TextWithoutActionsRendersAsItself) {
  const std::string json = R"({"payload": "e30=", "nested": {"a": [1, 2]}})";
  EXPECT_FALSE(CallTemplate::HasActions(json));
  EXPECT_EQ(Render(json, call_), json);
  EXPECT_TRUE(CallTemplate::HasActions("{{.WorkerID}}"));
}

TEST_F(CallTemplateTest, SpacesInsideAnActionAreAllowed) {
  EXPECT_EQ(Render("[{{ .RequestNumber }}] [{{randomInt   7  8 }}]", call_), "[42] [7]");
}

TEST_F(CallTemplateTest, TrimMarkersDropTheWhiteSpaceAroundTheAction) {
  EXPECT_EQ(Render("a \n\t {{- .RequestNumber -}} \n b", call_), "a42b");
  EXPECT_EQ(Render("a {{- .RequestNumber}} b", call_), "a42 b");
  EXPECT_EQ(Render("a {{.RequestNumber -}} b", call_), "a 42b");
}

TEST_F(CallTemplateTest, CommentsRenderNothing) {
  EXPECT_EQ(Render("a{{/* the number */}}b {{- /* trimmed */ -}} c", call_), "abc");
}

TEST_F(CallTemplateTest, RandomStringHasTheLengthAskedAndFreshLettersEachTime) {
  auto parsed = CallTemplate::Parse("{{randomString 12}}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::BitGen random = Seeded();
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string s = parsed->Render(call_, random);
    ASSERT_EQ(s.size(), 12u) << s;
    for (char c : s) EXPECT_TRUE(absl::ascii_isalnum(static_cast<unsigned char>(c))) << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 50u) << "a new string for every call";
}

TEST_F(CallTemplateTest, RandomStringOfNoLengthPicksOneFromTwoToSixteen) {
  auto parsed = CallTemplate::Parse("{{randomString 0}}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::BitGen random = Seeded();
  std::set<size_t> lengths;
  for (int i = 0; i < 500; ++i) lengths.insert(parsed->Render(call_, random).size());
  EXPECT_EQ(*lengths.begin(), 2u);
  EXPECT_EQ(*lengths.rbegin(), 16u);
}

TEST_F(CallTemplateTest, RandomIntDrawsFromMinUpToButNotMax) {
  auto parsed = CallTemplate::Parse("{{randomInt -2 3}}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::BitGen random = Seeded();
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) seen.insert(parsed->Render(call_, random));
  EXPECT_EQ(seen, (std::set<std::string>{"-2", "-1", "0", "1", "2"}));
}

TEST_F(CallTemplateTest, NewUuidIsAFreshVersion4UuidEachTime) {
  auto parsed = CallTemplate::Parse("{{newUUID}}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::BitGen random = Seeded();
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string u = parsed->Render(call_, random);
    ASSERT_EQ(u.size(), 36u) << u;
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[18], '-');
    EXPECT_EQ(u[23], '-');
    EXPECT_EQ(u[14], '4') << "version 4: " << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << "RFC 4122 variant: " << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_FALSE(parsed->uses_uuid()) << "newUUID is the function, not the call's .UUID";
  EXPECT_TRUE(CallTemplate::Parse("{{.UUID}}")->uses_uuid());
}

TEST_F(CallTemplateTest, AnUnknownFieldIsRefusedWithTheFieldsThereAre) {
  const std::string error = ParseError(R"({"id": "{{.RequestId}}"})");
  EXPECT_NE(error.find("{{.RequestId}}: no call data field 'RequestId'"), std::string::npos)
      << error;
  EXPECT_NE(error.find(".RequestNumber"), std::string::npos) << error;
}

TEST_F(CallTemplateTest, SprigFunctionsPipelinesAndControlActionsAreRefusedByName) {
  for (const char* text : {"{{upper .MethodName}}", "{{if .IsClientStreaming}}x{{end}}",
                           "{{$x := 1}}", "{{-3}}"}) {
    const std::string error = ParseError(text);
    EXPECT_NE(error.find("not a template handoff load can render"), std::string::npos)
        << text << ": " << error;
  }
  EXPECT_NE(ParseError("{{.RequestNumber | printf \"%05d\"}}").find("pipelines"),
            std::string::npos);
}

TEST_F(CallTemplateTest, BadArgumentsAreRefusedSayingWhatTheFunctionTakes) {
  EXPECT_NE(ParseError("{{randomString}}").find("randomString takes one integer"),
            std::string::npos);
  EXPECT_NE(ParseError("{{randomString eight}}").find("'eight' is not an integer"),
            std::string::npos);
  EXPECT_NE(ParseError("{{newUUID 1}}").find("newUUID takes no arguments"), std::string::npos);
  EXPECT_NE(ParseError("{{randomInt 5 5}}").find("[MIN, MAX), which is empty"),
            std::string::npos);
  EXPECT_NE(ParseError("{{randomInt 1}}").find("two integers"), std::string::npos);
  EXPECT_NE(ParseError("{{randomString 1000000000}}").find("at most 16777216 characters"),
            std::string::npos);
}

TEST_F(CallTemplateTest, AnUnclosedActionOrCommentIsRefused) {
  EXPECT_NE(ParseError(R"({"id": {{.RequestNumber})").find("unclosed action"),
            std::string::npos);
  EXPECT_NE(ParseError("{{/* no end }}").find("unclosed comment"), std::string::npos);
}

TEST_F(CallTemplateTest, FunctionsAreRefusedWhenTurnedOffFieldsAreNot) {
  EXPECT_NE(ParseError("{{newUUID}}", /*functions=*/false).find("--disable-template-functions"),
            std::string::npos);
  EXPECT_TRUE(CallTemplate::Parse("{{.RequestNumber}}", /*functions=*/false).ok());
}

TEST(GhzWorkerIdTest, NamesTheSlotAndItsConnectionAfterTheRunsName) {
  EXPECT_EQ(GhzWorkerId("", 0, 0), "g0c0");
  EXPECT_EQ(GhzWorkerId("", 7, 3), "g7c3");
  EXPECT_EQ(GhzWorkerId("nightly", 2, 0), "nightly:g2c0");
}

// TemplatedRequests: the run's data and metadata, rendered per call.

uint32_t CpuUs(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  v1::WorkRequest request;
  EXPECT_TRUE(request.ParseFromString(bytes));
  return request.cpu_us();
}

TEST(TemplatedRequestsTest, NoActionsAnywhereMeansNoTemplates) {
  auto made = TemplatedRequests::Make(R"({"cpu_us": 5})", v1::WorkRequest::descriptor(),
                                      {{"x-tag", "plain"}}, WorkNames(), true);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(*made, nullptr);
}

TEST(TemplatedRequestsTest, EachCallGetsItsOwnMessagesAndMetadata) {
  auto made = TemplatedRequests::Make(
      R"([{"cpu_us": {{.RequestNumber}}}, {"cpu_us": 7}])", v1::WorkRequest::descriptor(),
      {{"x-tag", "{{.WorkerID}}-{{.UUID}}"}, {"x-fixed", "same"}, {"x-id", "{{.UUID}}"}},
      WorkNames(), true);
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_NE(*made, nullptr);
  const TemplatedRequests& templates = **made;
  EXPECT_TRUE(templates.templated_data());
  EXPECT_TRUE(templates.templated_metadata());
  ASSERT_EQ(templates.first_call().messages.size(), 2u);
  EXPECT_EQ(CpuUs(templates.first_call().messages[0]), 0u) << "the run's first call";
  absl::BitGen random = Seeded();
  TemplatedRequests::Call call;
  ASSERT_TRUE(templates.Render("g1c0", 9, absl::Now(), random, call).ok());
  ASSERT_EQ(call.messages.size(), 2u);
  EXPECT_EQ(CpuUs(call.messages[0]), 9u);
  EXPECT_EQ(CpuUs(call.messages[1]), 7u);
  ASSERT_EQ(call.metadata.size(), 3u);
  EXPECT_EQ(call.metadata[1], (std::pair<std::string, std::string>{"x-fixed", "same"}));
  // One UUID per call, the same wherever the call uses it.
  const std::string uuid = call.metadata[2].second;
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(call.metadata[0].second, "g1c0-" + uuid);

  TemplatedRequests::Call next;
  ASSERT_TRUE(templates.Render("g1c0", 10, absl::Now(), random, next).ok());
  EXPECT_EQ(CpuUs(next.messages[0]), 10u);
  EXPECT_NE(next.metadata[2].second, uuid) << "a new UUID for the next call";
}

TEST(TemplatedRequestsTest, MetadataAloneLeavesTheMessagesToThePlan) {
  auto made = TemplatedRequests::Make("", nullptr, {{"x-n", "{{.RequestNumber}}"}},
                                      WorkNames(), true);
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_NE(*made, nullptr);
  EXPECT_FALSE((*made)->templated_data());
  absl::BitGen random = Seeded();
  TemplatedRequests::Call call;
  ASSERT_TRUE((*made)->Render("g0c0", 3, absl::Now(), random, call).ok());
  EXPECT_TRUE(call.messages.empty());
  EXPECT_EQ(call.metadata[0].second, "3");
}

TEST(TemplatedRequestsTest, ATemplateWhoseFirstCallIsBadJsonIsRefusedUpFront) {
  auto made = TemplatedRequests::Make(R"({"cpu_us": "{{.WorkerID}}"})",
                                      v1::WorkRequest::descriptor(), {}, WorkNames(), true);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string error(made.status().message());
  EXPECT_NE(error.find(R"(-d renders to {"cpu_us": "g0c0"}, which is bad JSON for )"
                       "handoff.v1.WorkRequest"),
            std::string::npos)
      << error;
}

TEST(TemplatedRequestsTest, ALaterCallThatRendersBadJsonFailsAlone) {
  // 4200000000 fits cpu_us's uint32; 4300000000 does not. (The first call,
  // number 0, renders 4000000000: a number led by the 0 would not parse.)
  auto made = TemplatedRequests::Make(R"({"cpu_us": 4{{.RequestNumber}}00000000})",
                                      v1::WorkRequest::descriptor(), {}, WorkNames(), true);
  ASSERT_TRUE(made.ok()) << made.status();
  absl::BitGen random = Seeded();
  TemplatedRequests::Call call;
  EXPECT_TRUE((*made)->Render("g0c0", 2, absl::Now(), random, call).ok());
  const absl::Status fourth = (*made)->Render("g0c0", 3, absl::Now(), random, call);
  EXPECT_EQ(fourth.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(fourth.message().find("4300000000"), absl::string_view::npos) << fourth;
}

TEST(TemplatedRequestsTest, ErrorsNameTheFileFlagWhenTheJsonCameFromOne) {
  auto made = TemplatedRequests::Make(R"({"cpu_us": "{{.WorkerID}}"})",
                                      v1::WorkRequest::descriptor(), {}, WorkNames(), true, "-D");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().message().substr(0, 14), "-D renders to ");
  auto unknown = TemplatedRequests::Make(R"({"cpu_us": {{.Nope}}})",
                                         v1::WorkRequest::descriptor(), {}, WorkNames(), true,
                                         "-D");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message().substr(0, 12), "-D: {{.Nope}");
}

TEST(TemplatedRequestsTest, ErrorsNameTheFlagAndTheMetadataKey) {
  auto data = TemplatedRequests::Make(R"({"cpu_us": {{.Nope}}})",
                                      v1::WorkRequest::descriptor(), {}, WorkNames(), true);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message().substr(0, 12), "-d: {{.Nope}");
  auto metadata = TemplatedRequests::Make("", nullptr, {{"x-tag", "{{randomInt 2 1}}"}},
                                          WorkNames(), true);
  ASSERT_FALSE(metadata.ok());
  EXPECT_EQ(metadata.status().message().substr(0, 30), "-m: \"x-tag\": {{randomInt 2 1}}");
}

}  // namespace
}  // namespace handoff::load
