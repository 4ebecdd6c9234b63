// Copyright 2026 The handoff Authors.
//
// Must not compile with HANDOFF_CASE 1 or 2: a Select (1) or an AsyncSelect
// (2) of kMaxSelectCases + 1 cases (select.h), which used to compile and then
// abort the process, without a word, when it ran. The tests
// select_refuses_more_than_64_cases_case_N compile this file alone and expect
// the static_assert's message; with HANDOFF_CASE 0 (64 cases) it must
// compile, so that no other error can pass for it.

#include <array>
#include <cstddef>
#include <utility>

#include "dispatch/chan.h"
#include "dispatch/select.h"

namespace {

template <size_t... I>
void SelectOn(const handoff::Chan<int>& ch, std::index_sequence<I...>) {
#if HANDOFF_CASE == 2
  handoff::AsyncSelect(handoff::OnRecv(ch, [] { (void)I; })...);
#else
  handoff::Select(handoff::OnRecv(ch, [] { (void)I; })...);
#endif
}

}  // namespace

int main() {
  handoff::Chan<int> ch(1);
  if (!ch.Send(1).ok()) return 1;
#if HANDOFF_CASE == 0
  SelectOn(ch, std::make_index_sequence<handoff::kMaxSelectCases>());
#else
  SelectOn(ch, std::make_index_sequence<handoff::kMaxSelectCases + 1>());
#endif
  return 0;
}
