// Copyright 2026 The handoff Authors.
//
// ReadFlagfileLines: the flags of the --flagfile files a command line
// names, for a binary to check them as it checks the command line (the
// CLI's load_flags_check.h; HelpFlagInFlagfiles, help_flags.h) before
// absl::ParseCommandLine, which reads them itself and exits 1 on a flag it
// does not know, or on a help flag, naming neither the file nor why.
//
// Read as Abseil 20220623 documents its flagfile: one flag a line, blank
// lines and lines starting with '#' skipped, whitespace around a line
// ignored. A line that is no flag (no leading '-') is left out: Abseil
// refuses it itself. A --flagfile line is followed into the files it names,
// to any depth, each file read once (a file naming itself would otherwise
// never end). A file that cannot be read is left out too, and left to
// Abseil, whose error names it.
#ifndef HANDOFF_COMMON_FLAGFILE_LINES_H_
#define HANDOFF_COMMON_FLAGFILE_LINES_H_

#include <string>
#include <vector>

#include "absl/types/span.h"

namespace handoff {

struct FlagfileLine {
  std::string file;  // as the --flagfile that named it wrote it
  int line = 0;      // from 1
  std::string text;  // the flag, trimmed: "-c=5"
};

// `argv` is main()'s. The flag lines of each file named by --flagfile=A,B or
// --flagfile A (as Abseil reads argv: common/absl_argv.h), in the order
// Abseil reads them: a nested file's lines where its --flagfile line is.
std::vector<FlagfileLine> ReadFlagfileLines(absl::Span<char* const> argv);

}  // namespace handoff

#endif  // HANDOFF_COMMON_FLAGFILE_LINES_H_
