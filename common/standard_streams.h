// OpenClosedStandardStreams: a process started with stdin, stdout or stderr
// closed (`handoffd 2>&-`, a supervisor that closes what it does not
// collect) gets /dev/null in their place.
//
// Why: POSIX gives each new descriptor the lowest number free, so the first
// file or socket the process opened would otherwise become descriptor 2
// (or 1, or 0), and whatever the process meant for that stream would be
// written into it: handoffd's messages and `--access_log=-` lines into
// Asio's eventfd, the CLI's reply into a gRPC connection. Call it first
// thing in main, before any other descriptor is opened.
#ifndef HANDOFF_COMMON_STANDARD_STREAMS_H_
#define HANDOFF_COMMON_STANDARD_STREAMS_H_

namespace handoff {

// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed (for
// reading on 0, for writing on 1 and 2); leaves open ones alone. If
// /dev/null cannot be opened, the stream stays closed: there is nowhere to
// say so.
void OpenClosedStandardStreams();

}  // namespace handoff

#endif  // HANDOFF_COMMON_STANDARD_STREAMS_H_
