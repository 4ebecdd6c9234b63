// Copyright 2026 The handoff Authors.
//
// An example of a named handler (see handler_registry.h and README, "Registering a handler"):
// Call{handler: "reverse", payload} returns the payload reversed. Linked into
// handoffd only, through static registration.

#include <string>

#include "server/handler_registry.h"

namespace {

const bool kRegistered = handoff::RegisterHandler(
    "reverse",
    [](const handoff::HandlerCall& call) -> absl::StatusOr<std::string> {
      if (call.ctx.IsDone()) return call.ctx.Err();
      return std::string(call.payload.rbegin(), call.payload.rend());
    });

}  // namespace
