// `handoff load HOST:PORT ...`: ghz's command line and report.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <google/protobuf/descriptor.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/commands.h"
#include "client/cli/interrupts.h"
#include "client/cli/tls_hint.h"
#include "client/dynamic_call.h"
#include "client/load/binary_requests.h"
#include "client/load/debug_log.h"
#include "client/load/flags.h"
#include "client/load/grpc_engine.h"
#include "client/load/h2_engine.h"
#include "client/load/progress.h"
#include "client/load/report.h"
#include "client/load/runner.h"
#include "client/load/templated_requests.h"
#include "client/local_descriptors.h"
#include "client/reflection_database.h"

namespace handoff::cli {
namespace {

// A method's types: from --proto, else --protoset, else the server's
// reflection. Whichever holds them lives as long as this does.
class MethodTypes {
 public:
  // Local files only; none named: nullptr.
  static absl::StatusOr<std::unique_ptr<MethodTypes>> Local(const load::LoadOptions& o) {
    auto loaded = LocalDescriptors::FromFlags(o.proto, o.import_paths, o.protoset);
    if (!loaded.ok()) return loaded.status();
    if (*loaded == nullptr) return nullptr;
    auto types = absl::WrapUnique(new MethodTypes);
    types->local_ = *std::move(loaded);
    return types;
  }

  // Local files, or else the server, asked as the calls will ask it.
  static absl::StatusOr<std::unique_ptr<MethodTypes>> Any(const load::LoadPlan& plan) {
    const load::LoadOptions& o = plan.options;
    auto local = Local(o);
    if (!local.ok() || *local != nullptr) return local;
    grpc::ChannelArguments args;
    load::AddServerNameArgs(o, args);
    auto types = absl::WrapUnique(new MethodTypes);
    types->host_ = o.host;
    types->insecure_ = o.insecure;
    types->client_cert_ = !o.cert.empty();
    types->reflection_ = std::make_unique<ReflectionDatabase>(
        grpc::CreateCustomChannel(o.host, plan.credentials, args), o.connect_timeout,
        /*wait_for_ready=*/false, o.reflect_metadata, o.host);
    types->remote_ = std::make_unique<google::protobuf::DescriptorPool>(
        types->reflection_.get(), types->reflection_->build_errors());
    return types;
  }

  absl::StatusOr<const google::protobuf::MethodDescriptor*> Find(const std::string& call) const {
    if (local_ != nullptr) {
      return FindMethod(local_->pool(), call, nullptr,
                        absl::StrCat("not in ", local_->source(), " or its imports"));
    }
    auto found = FindMethod(*remote_, call, &reflection_->last_error());
    const absl::StatusCode code = found.status().code();
    if (code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      return found;
    }
    // The server, not the method, could not be had: say which server, and
    // which flag bounded the wait.
    const absl::Status lookup =
        WithTlsHint(!insecure_, client_cert_, found.status(),
                    {.try_tls = "without --insecure",
                     .try_plaintext = "--insecure (plaintext)",
                     .try_client_cert = "--cert and --key"});
    return absl::Status(
        code, absl::StrCat("server reflection at ", host_, ": ", lookup.message(),
                           code == absl::StatusCode::kDeadlineExceeded ? " (--connect-timeout)"
                                                                       : ""));
  }

  // Whether the lookup could not reach the server at all: no answer within
  // --connect-timeout, or no connection (refused, or a failed TLS
  // handshake, whose reason the status carries). A run's connections would
  // fail alike, only later and with less to say.
  static bool Unreachable(const absl::Status& lookup) {
    return lookup.code() == absl::StatusCode::kDeadlineExceeded ||
           lookup.code() == absl::StatusCode::kUnavailable;
  }

 private:
  MethodTypes() = default;

  std::unique_ptr<LocalDescriptors> local_;
  std::string host_;
  bool insecure_ = false;
  bool client_cert_ = false;  // --cert given
  std::unique_ptr<ReflectionDatabase> reflection_;
  std::unique_ptr<google::protobuf::DescriptorPool> remote_;
};

// The stream options shape what a client sends on a stream: a method that
// does not take one cannot have them.
// An empty -d array is a client stream that sends nothing and closes. A
// call of any other kind needs a request, and the stream options send the
// messages in turn: they would have none to take.
absl::Status CheckNotEmpty(const load::LoadPlan& plan) {
  if (!plan.messages.empty()) return absl::OkStatus();
  if (!plan.client_streaming) {
    return absl::InvalidArgumentError(absl::StrCat(
        "-d: an empty array has no request to send (",
        plan.streaming ? "a server-streaming" : "a unary", " method takes one)"));
  }
  const load::LoadOptions& o = plan.options;
  if (o.stream_call_count > 0 || o.stream_call_duration > absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::StripAsciiWhitespace(plan.request_json).empty() ? "no request data (-d)"
                                                              : "-d: an empty array",
        " has no message for --stream-call-count or --stream-call-duration to send in turn"));
  }
  return absl::OkStatus();
}

absl::Status CheckStreamOptions(const load::LoadPlan& plan) {
  const load::LoadOptions& o = plan.options;
  if (o.stream_call_count == 0 && o.stream_interval <= absl::ZeroDuration() &&
      o.stream_call_duration <= absl::ZeroDuration() && !o.stream_dynamic_messages) {
    return absl::OkStatus();
  }
  if (plan.client_streaming) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--stream-call-count, --stream-interval, --stream-call-duration and "
      "--stream-dynamic-messages shape the messages a client streams, and ",
      plan.streaming ? "this method streams only from the server"
                     : "this method takes one message (with -b/-B, --proto says which "
                       "methods stream)"));
}

load::MethodNames NamesOf(const google::protobuf::MethodDescriptor& method) {
  load::MethodNames names;
  names.fully_qualified_name = method.full_name();
  names.method_name = method.name();
  names.service_name = method.service()->name();
  names.input_name = method.input_type()->name();
  names.output_name = method.output_type()->name();
  names.client_streaming = method.client_streaming();
  names.server_streaming = method.server_streaming();
  return names;
}

// From "/pkg.Service/Method" alone, for binary requests without types.
load::MethodNames NamesOf(absl::string_view path) {
  load::MethodNames names;
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripPrefix(path, "/"), absl::MaxSplits('/', 1));
  const absl::string_view service = parts[0];
  names.method_name = parts.size() > 1 ? std::string(parts[1]) : std::string();
  names.fully_qualified_name = absl::StrCat(service, ".", names.method_name);
  names.service_name = std::string(service.substr(service.rfind('.') + 1));
  return names;
}

// The run's call templates, if its JSON or metadata holds any; `json` is
// empty for binary requests, and `input` null when their type is unknown.
absl::Status PrepareTemplates(load::LoadPlan& plan, absl::string_view json,
                              const google::protobuf::Descriptor* input,
                              load::MethodNames names) {
  const load::LoadOptions& o = plan.options;
  if (o.disable_template_data) return absl::OkStatus();
  auto templates =
      load::TemplatedRequests::Make(json, input, o.metadata, std::move(names),
                                    !o.disable_template_functions, o.data_file.empty() ? "-d" : "-D");
  if (!templates.ok()) return templates.status();
  plan.templates = *std::move(templates);
  if (plan.templates != nullptr && plan.templates->templated_data()) {
    plan.messages = plan.templates->first_call().messages;
  }
  return absl::OkStatus();
}

// The method, its kind, and the serialized requests. JSON is typed by
// MethodTypes. Binary input is typed when it can be: by a local file, else
// by the server's reflection, as with ghz; then the types name the method,
// say whether it streams, and split count-delimited bytes into messages
// (binary_requests.h). A server without reflection gets the bytes as they
// are, on the path --call names.
absl::Status Prepare(load::LoadPlan& plan) {
  load::LoadOptions& o = plan.options;
  if (o.binary || !o.binary_file.empty()) {
    auto bytes = ReadInput(o.binary ? "-" : o.binary_file);
    if (!bytes.ok()) return bytes.status();
    auto local = MethodTypes::Local(o);
    if (!local.ok()) return local.status();
    std::unique_ptr<MethodTypes> types = *std::move(local);
    const google::protobuf::MethodDescriptor* method = nullptr;
    if (types != nullptr) {
      auto found = types->Find(o.call);
      if (!found.ok()) return found.status();
      method = *found;
    } else if (auto remote = MethodTypes::Any(plan); remote.ok()) {
      if (auto found = (*remote)->Find(o.call); found.ok()) {
        method = *found;
        types = *std::move(remote);
      } else if (MethodTypes::Unreachable(found.status())) {
        // The bytes need no types to be sent, but the server that could not
        // be reached for this will not be for the run either: fail now,
        // with the lookup's reason, not after a second --connect-timeout.
        return found.status();
      }
    }
    load::MethodNames names;
    if (method != nullptr) {
      plan.method = MethodPath(*method);
      plan.streaming = method->client_streaming() || method->server_streaming();
      plan.client_streaming = method->client_streaming();
      names = NamesOf(*method);
    } else {
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
      names = NamesOf(path);
    }
    for (const std::string& message :
         load::BinaryRequests(*bytes, method != nullptr ? method->input_type() : nullptr)) {
      grpc::Slice slice(message);
      plan.messages.emplace_back(&slice, 1);
    }
    if (absl::Status s = PrepareTemplates(plan, "", nullptr, std::move(names)); !s.ok()) {
      return s;
    }
    return CheckStreamOptions(plan);
  }
  std::string json = o.data;
  if (o.data == "@") {  // as ghz: the requests come on stdin
    auto text = ReadInput("-");
    if (!text.ok()) return text.status();
    json = *std::move(text);
  } else if (!o.data_file.empty()) {
    auto text = ReadInput(o.data_file);
    if (!text.ok()) return text.status();
    json = *std::move(text);
  }
  plan.request_json = json;
  auto any = MethodTypes::Any(plan);
  if (!any.ok()) return any.status();
  std::shared_ptr<const MethodTypes> types = *std::move(any);
  auto method = types->Find(o.call);
  if (!method.ok()) return method.status();
  plan.method = MethodPath(**method);
  plan.streaming = (*method)->client_streaming() || (*method)->server_streaming();
  plan.client_streaming = (*method)->client_streaming();
  const bool templated = !o.disable_template_data && load::CallTemplate::HasActions(json);
  // No request data is no message on a stream the client writes, as ghz's
  // run sends none (its message provider has none to give, and the stream
  // is closed at once); a method that takes one request gets a default one.
  const bool no_data = absl::StripAsciiWhitespace(json).empty();
  if (!templated && !(no_data && plan.client_streaming)) {
    auto requests = JsonToMessages(*(*method)->input_type(), json);
    if (!requests.ok()) return requests.status();
    for (const std::string& bytes : *requests) {
      grpc::Slice slice(bytes);
      plan.messages.emplace_back(&slice, 1);
    }
  }
  if (absl::Status s = PrepareTemplates(plan, templated ? json : "",
                                        (*method)->input_type(), NamesOf(**method));
      !s.ok()) {
    return s;
  }
  if (plan.templates != nullptr) plan.types = types;
  if (absl::Status s = CheckNotEmpty(plan); !s.ok()) return s;
  return CheckStreamOptions(plan);
}

// The report, to `path` (-o), or to stdout when it is empty. A stream
// says that a write failed (a full disk) only once it is flushed: a short
// report, still in its buffer at the check, was lost with exit 0.
absl::Status WriteReport(const std::string& text, const std::string& path) {
  auto failed = [&path](int error) {
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path,
                     error != 0 ? absl::StrCat(": ", std::strerror(error)) : ""));
  };
  if (path.empty()) return WriteStdout(text, "the report");
  errno = 0;
  std::ofstream out(path);
  out << text;
  out.close();
  return out ? absl::OkStatus() : failed(errno);
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
  if (options->version) {
    std::cout << "handoff load " HANDOFF_VERSION "\n";
    return 0;
  }
  load::DebugLog debug;
  if (!options->debug.empty()) {
    auto opened = load::DebugLog::Open(options->debug);
    if (!opened.ok()) return Fail("load", opened.status());
    debug = *std::move(opened);
  }
  debug.Log("options parsed", {{"call", options->call}, {"host", options->host}});
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
  if (absl::Status s = Prepare(plan); !s.ok()) {
    debug.Log("preparing the requests failed", {{"error", s.ToString()}});
    return Fail(options->call, s);
  }
  const bool templated_data = plan.templates != nullptr && plan.templates->templated_data();
  const bool templated_metadata =
      plan.templates != nullptr && plan.templates->templated_metadata();
  debug.Log("requests prepared",
            {{"method", plan.method},
             {"streaming", plan.streaming ? "true" : "false", true},
             {"clientStreaming", plan.client_streaming ? "true" : "false", true},
             {"messages", absl::StrCat(plan.messages.size()), true},
             {"templatedData", templated_data ? "true" : "false", true},
             {"templatedMetadata", templated_metadata ? "true" : "false", true}});

  // --engine=h2 with an option it cannot honour is a usage error, as any
  // other pair of flags that do not go together is: only the method's kind
  // (streaming or not) had to be known first.
  if (options->engine == load::EngineKind::kH2) {
    if (absl::Status s = load::H2Engine::Supports(plan); !s.ok()) {
      return Usage(absl::StrCat("--engine=h2 cannot make this run's calls: ", s.message()));
    }
  }
  // The influx formats' data= tag and the JSON report's options.data are
  // the request JSON as it was read, for a -D file's or stdin's requests
  // too, not -d's text alone.
  load::LoadOptions report_options = *options;
  report_options.data = plan.request_json;
  load::LoadRunner runner(std::move(plan));
  // From here until the report, Ctrl-C ends the run (interrupts.h), while
  // it connects too: as ghz's, the report of a run interrupted before its
  // first call is an empty one. Before the "connecting" line: a script that
  // waits for it may interrupt at once.
  auto interrupts = std::make_unique<Interrupts>([&runner] { runner.Cancel(); });
  debug.Log("connecting", {{"host", options->host},
                           {"connectTimeout",
                            absl::StrCat(absl::ToInt64Nanoseconds(options->connect_timeout)),
                            true}});
  const absl::Status connected = runner.Connect();
  const char* engine = runner.engine() == load::EngineKind::kH2 ? "h2" : "grpc";
  if (absl::IsCancelled(connected)) {
    debug.Log("connecting interrupted", {{"engine", engine}});
  } else if (!connected.ok()) {
    debug.Log("connecting failed", {{"engine", engine}, {"error", connected.ToString()}});
    return Fail("load", connected);
  } else {
    debug.Log("connected", {{"engine", engine},
                            {"connections", absl::StrCat(options->connections), true},
                            {"slots", absl::StrCat(options->concurrency), true},
                            {"cpus", absl::StrCat(options->cpus), true}});
  }

  // Only a person watching a terminal wants the bar; a pipe or file gets
  // just the report.
  const bool show_progress = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
  load::ProgressBar progress([&runner] { return runner.completed(); },
                             runner.expected(), options->duration);
  if (show_progress) progress.Start();
  load::RunResults results = runner.Run();
  interrupts.reset();
  progress.Stop();
  debug.Log("run done", {{"calls", absl::StrCat(results.calls.size()), true},
                         {"total", absl::StrCat(absl::ToInt64Nanoseconds(results.total)), true},
                         {"endReason", results.end_reason},
                         {"distinctErrors", absl::StrCat(results.errors.size()), true}});

  load::Report report = load::BuildReport(
      std::move(results), options->name,
      options->count_errors ? load::LatencyStats::kAllCalls : load::LatencyStats::kOkCalls);
  std::string text;
  switch (options->format) {
    case load::OutputFormat::kSummary: text = load::FormatSummary(report); break;
    case load::OutputFormat::kJson: text = load::FormatJson(report, report_options, false); break;
    case load::OutputFormat::kPrettyJson:
      text = load::FormatJson(report, report_options, true);
      break;
    case load::OutputFormat::kCsv: text = load::FormatCsv(report); break;
    case load::OutputFormat::kHtml: text = load::FormatHtml(report, *options); break;
    case load::OutputFormat::kInfluxSummary:
      text = load::FormatInfluxSummary(report, report_options);
      break;
    case load::OutputFormat::kInfluxDetails:
      text = load::FormatInfluxDetails(report, report_options);
      break;
    case load::OutputFormat::kPrometheus: text = load::FormatPrometheus(report, *options); break;
  }
  if (absl::Status s = WriteReport(text, options->output); !s.ok()) {
    return Fail(options->output.empty() ? "load" : "-o", s);
  }
  return 0;
}

}  // namespace handoff::cli
