// CallTemplate: ghz's call data templates, the part of Go's text/template
// that load tests use.
//
// A request's JSON or a metadata value may hold actions that are evaluated
// afresh for every call, so that each call can carry its own number, time or
// random value:
//
//   -d '{"id":"{{.RequestNumber}}","nonce":"{{randomString 8}}"}'
//   -m '{"x-request-id":"{{newUUID}}"}'
//
// Actions are `{{.Field}}` for a CallData field (by its ghz name), the
// functions `{{newUUID}}`, `{{randomString N}}` and `{{randomInt MIN MAX}}`
// with integer literals for arguments, and comments `{{/* ... */}}`. Go's
// trim markers `{{- ` and ` -}}` drop the white space before and after the
// action. Anything else Go's templates or ghz's sprig functions would take,
// a pipeline, a variable, `if` or `range`, is refused when the text is
// parsed, with a message that names the action: a run never starts with a
// template it would render differently from ghz.
//
// Parse once; Render is const and may run on many threads at once, each
// with its own random generator.
#ifndef HANDOFF_CLIENT_LOAD_CALL_TEMPLATE_H_
#define HANDOFF_CLIENT_LOAD_CALL_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::load {

// What a run's calls have in common: its method. Names as ghz gives them:
// "pkg.Service.Method", then the simple names.
struct MethodNames {
  std::string fully_qualified_name;
  std::string method_name;
  std::string service_name;
  std::string input_name;   // empty when the types are unknown (-b, -B)
  std::string output_name;
  bool client_streaming = false;
  bool server_streaming = false;
};

// What one call's templates see (ghz's CallData).
struct CallData {
  const MethodNames* method = nullptr;
  // ghz's "g<slot>c<connection>", after "<--name>:" when the run has one.
  absl::string_view worker_id;
  // 1 for the run's first call, 2 for its second, ...
  int64_t request_number = 0;
  absl::Time timestamp;
  // One version 4 UUID for the call, the same in its data and its metadata;
  // set when a template uses it (uses_uuid()).
  absl::string_view uuid;
};

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string RandomUuid(absl::BitGen& random);

// ghz's worker ID for call slot `slot` (0 to -c - 1) on connection
// `connection`, within a run named `name` (--name, may be empty).
std::string GhzWorkerId(absl::string_view name, int slot, int connection);

class CallTemplate {
 public:
  struct Part;

  // Parses `text`. `functions` false (ghz's --disable-template-functions)
  // refuses newUUID, randomString and randomInt. Errors name the action and
  // what is wrong with it.
  static absl::StatusOr<CallTemplate> Parse(absl::string_view text, bool functions = true);

  // Whether `text` has an action at all; without one it renders as itself.
  static bool HasActions(absl::string_view text);

  // Whether the text uses {{.UUID}}, which the caller draws once per call.
  bool uses_uuid() const { return uses_uuid_; }

  // The text with every action evaluated for `call`.
  std::string Render(const CallData& call, absl::BitGen& random) const;

  CallTemplate(CallTemplate&&) noexcept;
  CallTemplate& operator=(CallTemplate&&) noexcept;
  ~CallTemplate();

 private:
  CallTemplate();
  std::vector<Part> parts_;
  bool uses_uuid_ = false;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_CALL_TEMPLATE_H_
