// Copyright 2026 The handoff Authors.
//
// InfluxTags: the run of tags of an influx line from `first` up to the tag
// `next` that follows them, for a test to compare those alone.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_INFLUX_TAGS_H_
#define HANDOFF_TESTS_UNIT_CLIENT_INFLUX_TAGS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace handoff::load {

// "metadata=\"\"" of InfluxTags(line, "metadata", "tags"); a message naming
// what is missing if either tag is not in the line.
inline std::string InfluxTags(const std::string& line, absl::string_view first,
                              absl::string_view next) {
  const size_t from = line.find(absl::StrCat(",", first, "="));
  const size_t to = line.find(absl::StrCat(",", next, "="));
  if (from == std::string::npos || to == std::string::npos || to < from) {
    return absl::StrCat("no ", first, "= tag followed by ", next, "= in ", line);
  }
  return line.substr(from + 1, to - from - 1);
}

}  // namespace handoff::load

#endif  // HANDOFF_TESTS_UNIT_CLIENT_INFLUX_TAGS_H_
