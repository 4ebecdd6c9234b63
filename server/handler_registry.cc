// Copyright 2026 The handoff Authors.

#include "server/handler_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "server/quoted_text.h"

namespace handoff {

namespace {

// The start of a name too long to register, as its refusal quotes it:
// UTF-8 whatever the name, since the message is logged, and may be put in
// a proto string, by whoever registers. Cut at a character's start; a name
// that is not UTF-8 there is escaped, as the refusal of such a name is.
std::string StartOfLongName(const std::string& name) {
  std::string start(CutAtCharacter(name, 32));
  if (!IsUtf8(start)) return absl::CHexEscape(start);
  return start;
}

}  // namespace

absl::Status HandlerRegistry::Register(std::string name, Handler handler,
                                       HandlerCost cost) {
  if (name.empty()) return absl::InvalidArgumentError("handler name is empty");
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "handler name '", StartOfLongName(name), "...' is ", name.size(),
        " bytes, over the limit of ", kMaxNameBytes));
  }
  if (!IsUtf8(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "handler name '", absl::CHexEscape(name),
        "' is not UTF-8: no CallRequest could name it"));
  }
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("handler '", name, "' is null"));
  }
  absl::MutexLock l(&mu_);
  auto [it, inserted] = handlers_.try_emplace(
      name, std::make_shared<const RegisteredHandler>(
                RegisteredHandler{std::move(handler), std::move(cost),
                                  std::make_shared<JobKind>()}));
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("handler '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

void HandlerRegistry::Unregister(std::string_view name) {
  absl::MutexLock l(&mu_);
  handlers_.erase(absl::string_view(name.data(), name.size()));
}

std::shared_ptr<const RegisteredHandler> HandlerRegistry::Find(
    std::string_view name) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = handlers_.find(absl::string_view(name.data(), name.size()));
  return it == handlers_.end() ? nullptr : it->second;
}

std::vector<std::string> HandlerRegistry::Names() const {
  absl::ReaderMutexLock l(&mu_);
  std::vector<std::string> names;
  for (const auto& [name, h] : handlers_) names.push_back(name);
  return names;
}

std::vector<std::pair<std::string, std::shared_ptr<const RegisteredHandler>>>
HandlerRegistry::Handlers() const {
  std::vector<std::pair<std::string, std::shared_ptr<const RegisteredHandler>>> all;
  {
    absl::ReaderMutexLock l(&mu_);
    all.assign(handlers_.begin(), handlers_.end());
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return all;
}

HandlerRegistry& DefaultHandlerRegistry() {
  static auto* registry = new HandlerRegistry;  // never destroyed: static init
  return *registry;
}

bool RegisterHandler(std::string name, Handler handler, HandlerCost cost) {
  absl::Status s = DefaultHandlerRegistry().Register(
      std::move(name), std::move(handler), std::move(cost));
  if (!s.ok()) {
    std::fprintf(stderr, "RegisterHandler: %s\n", s.ToString().c_str());
    std::abort();
  }
  return true;
}

}  // namespace handoff
