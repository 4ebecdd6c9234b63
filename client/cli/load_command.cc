// `handoff load HOST:PORT ...`: ghz's command line and report.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <google/protobuf/descriptor.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/dynamic_call.h"
#include "client/load/flags.h"
#include "client/load/progress.h"
#include "client/load/report.h"
#include "client/load/runner.h"
#include "client/local_descriptors.h"
#include "client/reflection_database.h"

namespace handoff::cli {
namespace {

// The method, its kind, and the serialized requests. Binary input needs no
// types (ghz's -b works the same way); JSON is typed by --proto or
// --protoset, or else by the server's own descriptors.
absl::Status Prepare(load::LoadPlan& plan) {
  load::LoadOptions& o = plan.options;
  if (o.binary || !o.binary_file.empty()) {
    auto bytes = ReadInput(o.binary ? "-" : o.binary_file);
    if (!bytes.ok()) return bytes.status();
    std::string path = o.call;
    // "pkg.Service.Method" -> "/pkg.Service/Method"
    if (path.find('/') == std::string::npos) {
      const size_t dot = path.rfind('.');
      if (dot == std::string::npos) {
        return absl::InvalidArgumentError("--call: want package.Service.Method");
      }
      path[dot] = '/';
    }
    if (path.front() != '/') path = absl::StrCat("/", path);
    plan.method = path;
    plan.messages.emplace_back();
    grpc::Slice slice(*bytes);
    plan.messages.back() = grpc::ByteBuffer(&slice, 1);
    return absl::OkStatus();
  }
  std::string json = o.data;
  if (!o.data_file.empty()) {
    auto text = ReadInput(o.data_file);
    if (!text.ok()) return text.status();
    json = *std::move(text);
  }
  // Types from a local file if one is given, as ghz takes them (--proto
  // first), else from the server.
  std::unique_ptr<LocalDescriptors> local;
  const std::string& local_file = !o.proto.empty() ? o.proto : o.protoset;
  if (!o.proto.empty() || !o.protoset.empty()) {
    auto loaded = !o.proto.empty() ? LocalDescriptors::FromProtoFile(o.proto, o.import_paths)
                                   : LocalDescriptors::FromProtoset(o.protoset);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat(!o.proto.empty() ? "--proto: " : "--protoset: ",
                                       loaded.status().message()));
    }
    local = *std::move(loaded);
  }
  std::unique_ptr<ReflectionDatabase> db;
  std::unique_ptr<google::protobuf::DescriptorPool> remote;
  if (local == nullptr) {
    // The server is asked as the calls will ask it.
    grpc::ChannelArguments args;
    if (!o.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, o.authority);
    if (!o.cname.empty()) args.SetSslTargetNameOverride(o.cname);
    db = std::make_unique<ReflectionDatabase>(
        grpc::CreateCustomChannel(o.host, plan.credentials, args), o.connect_timeout);
    remote = std::make_unique<google::protobuf::DescriptorPool>(db.get());
  }
  auto method = local != nullptr
                    ? FindMethod(local->pool(), o.call, nullptr,
                                 absl::StrCat("not in ", local_file, " or its imports"))
                    : FindMethod(*remote, o.call, &db->last_error());
  if (!method.ok()) return method.status();
  auto requests = JsonToMessages(*(*method)->input_type(), json);
  if (!requests.ok()) return requests.status();
  plan.method = MethodPath(**method);
  plan.streaming = (*method)->client_streaming() || (*method)->server_streaming();
  if (!plan.streaming && requests->empty()) {
    return absl::InvalidArgumentError("-d: an empty array has no request to send");
  }
  for (const std::string& bytes : *requests) {
    grpc::Slice slice(bytes);
    plan.messages.emplace_back(&slice, 1);
  }
  return absl::OkStatus();
}

}  // namespace

int Load(const std::vector<absl::string_view>& args) {
  auto options = load::ParseLoadFlags(args);
  if (!options.ok()) {
    return Usage(absl::StrCat(options.status().message(), " (see handoff load --help)"));
  }
  if (options->help) {
    std::cout << load::LoadUsage();
    return 0;
  }
  load::LoadPlan plan;
  plan.options = *options;
  const TlsFiles tls_files{options->cacert, options->cert, options->key, options->skip_tls};
  if (options->insecure && !(tls_files.cacert.empty() && tls_files.cert.empty() &&
                             tls_files.key.empty() && !tls_files.skip_verify)) {
    return Usage("--insecure is plaintext: it takes no --cacert, --cert, --key or --skipTLS");
  }
  if (absl::Status s = CheckTlsFiles(tls_files); !s.ok()) return Usage(s.message());
  auto credentials = Credentials(!options->insecure, tls_files);
  if (!credentials.ok()) return Fail("TLS", credentials.status());
  plan.credentials = *credentials;
  if (absl::Status s = Prepare(plan); !s.ok()) return Fail(options->call, s);

  load::LoadRunner runner(std::move(plan));
  if (absl::Status s = runner.Connect(); !s.ok()) return Fail("load", s);

  // Only a person watching a terminal wants the bar; a pipe or file gets
  // just the report.
  const bool show_progress = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
  load::ProgressBar progress([&runner] { return runner.completed(); },
                             runner.expected(), options->duration);
  if (show_progress) progress.Start();
  load::RunResults results = runner.Run();
  progress.Stop();

  load::Report report = load::BuildReport(
      std::move(results), options->name,
      options->count_errors ? load::LatencyStats::kAllCalls : load::LatencyStats::kOkCalls);
  std::string text;
  switch (options->format) {
    case load::OutputFormat::kSummary: text = load::FormatSummary(report); break;
    case load::OutputFormat::kJson: text = load::FormatJson(report, *options, false); break;
    case load::OutputFormat::kPrettyJson: text = load::FormatJson(report, *options, true); break;
    case load::OutputFormat::kCsv: text = load::FormatCsv(report); break;
  }
  if (options->output.empty()) {
    std::cout << text;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  std::ofstream out(options->output);
  out << text;
  if (!out) {
    return Fail("-o", absl::UnavailableError(absl::StrCat("cannot write ", options->output)));
  }
  return 0;
}

}  // namespace handoff::cli
