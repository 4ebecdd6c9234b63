// Copyright 2026 The handoff Authors.
//
// HandlerRegistry: named job handlers, run by the Call method.
//
// A handler is an ordinary function that runs on a worker thread with the
// call's Context. It may block (it has a worker to itself) but a long one
// should poll ctx.IsDone() or wait on ctx.Done() so that a cancelled or
// expired call frees its worker. What it returns becomes the call's status
// and payload; an exception it throws becomes INTERNAL ("job threw: handler
// 'NAME': " and its what()) and the worker goes on serving. It must never
// return an OK absl::Status (absl::OkStatus(), or ctx.Err() before the
// Context is done): Abseil aborts the process making a StatusOr of it,
// before handoffd sees the call's result. A handler may run on several
// workers at once, a call on each: what it shares between calls it must
// guard.
//
//   // reverse.cc, linked into handoffd:
//   #include "server/handler_registry.h"
//
//   static const bool kRegistered = handoff::RegisterHandler(
//       "reverse", [](const handoff::HandlerCall& call)
//                      -> absl::StatusOr<std::string> {
//         if (call.ctx.IsDone()) return call.ctx.Err();
//         return std::string(call.payload.rbegin(), call.payload.rend());
//       });
//
//   $ grpcurl -plaintext -d '{"handler":"reverse","payload":"YWJj"}'
//         localhost:50051 handoff.v1.Gateway/Call    (one line)
//
// Admission counts each call queued or running ahead of a new one at what
// it will likely cost a worker. A handler's calls are counted at the recent
// mean cost of that handler's calls (its own JobKind, learned from their
// runs), so that one slow handler does not make every cheap one's calls
// count as slow. A handler whose author knows what a call of it costs may
// say so, from the payload, and admission then counts each call by that
// (Job::declared_cost), plus what the handler's declared calls have recently
// cost past their declaration (JobKind::overhead()): better where calls of
// one handler differ widely. A declaration that falls short is made up for
// only on that handler's calls.
//
//   handoff::RegisterHandler("thumbnail", MakeThumbnail,
//       [](std::string_view image) {  // about 2 ms a megabyte
//         return absl::Microseconds(2 * static_cast<int64_t>(image.size()) / 1000);
//       });
//
// A handler must not wait for another job of the same server (a Call to
// itself, or a job submitted to its dispatcher): with every worker so
// waiting, none is left to run those jobs, and the handlers wait until
// their Contexts end.
//
// Retries: a call's headers go out as its handler starts, and a gRPC client
// retries no call whose headers it has (gRFC A6), whatever the handler
// answers, UNAVAILABLE included (job_start_headers.h); a client that
// retries regardless may make it again, so return UNAVAILABLE only where a
// second run is safe. A call the drain timeout cut off after its handler
// started is answered UNAVAILABLE with gRPC's server pushback as well.
//
// The server reads handlers from the registry it was given (by default,
// DefaultHandlerRegistry()); a name it does not find is UNIMPLEMENTED.

#ifndef HANDOFF_SERVER_HANDLER_REGISTRY_H_
#define HANDOFF_SERVER_HANDLER_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "dispatch/job_kind.h"

namespace handoff {

// What a handler is given: valid for the duration of the handler only.
struct HandlerCall {
  const Context& ctx;        // the call's deadline and cancellation
  int worker;                // which worker runs it (0-based)
  std::string_view payload;  // CallRequest.payload
};

using Handler =
    std::function<absl::StatusOr<std::string>(const HandlerCall& call)>;

// What a call of a handler will cost its worker, from its payload: the whole
// run, with any time it waits on something else; zero if not known (a
// negative cost is taken as zero: admission then counts the call at its
// kind's learned cost). Runs on gRPC's thread as the call arrives, before it
// is queued: keep it cheap. It never refuses the call itself. If it throws,
// the call is INTERNAL.
using HandlerCost = std::function<absl::Duration(std::string_view payload)>;

// A handler as registered: what runs, how to cost a call (may be null), and
// the kind its calls' jobs are of, whose cost admission learns from their
// runs when they declare none, and whose overhead past a declaration when
// they declare one.
struct RegisteredHandler {
  Handler run;
  HandlerCost cost;
  std::shared_ptr<JobKind> kind;
};

class HandlerRegistry {
 public:
  // The longest name Register takes, in bytes. A name travels back in
  // status messages (a cost function's failure, the list an unknown name's
  // UNIMPLEMENTED gives) and in /metrics labels: a status message over the
  // client's limit on trailers (8 KiB in gRPC's C core) fails the call with
  // another status than the one meant.
  static constexpr size_t kMaxNameBytes = 128;

  // AlreadyExists if the name is taken; InvalidArgument if it is empty,
  // longer than kMaxNameBytes, or not UTF-8 (CallRequest.handler is a proto3
  // string: a request naming it would not parse, so no call could reach
  // it), or if the handler is null. `cost` may be null: calls declare no
  // cost. Safe at any time, also while the server runs, from any thread.
  absl::Status Register(std::string name, Handler handler,
                        HandlerCost cost = nullptr);
  // Removes a handler (tests use it to clean up); calls already running it
  // keep their copy.
  void Unregister(std::string_view name);

  // The handler, or null. The shared_ptr keeps it alive while it runs.
  std::shared_ptr<const RegisteredHandler> Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  // Every handler with its name, sorted by name.
  std::vector<std::pair<std::string, std::shared_ptr<const RegisteredHandler>>>
  Handlers() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const RegisteredHandler>>
      handlers_ ABSL_GUARDED_BY(mu_);
};

// The process-wide registry handoffd serves by default.
HandlerRegistry& DefaultHandlerRegistry();

// Registers into DefaultHandlerRegistry(); returns true, or aborts with
// Register's error (a duplicate name, a name Register refuses, a null
// handler), so that static registration fails loudly.
bool RegisterHandler(std::string name, Handler handler,
                     HandlerCost cost = nullptr);

}  // namespace handoff

#endif  // HANDOFF_SERVER_HANDLER_REGISTRY_H_
