// Copyright 2026 The handoff Authors.
//
// FinishAfterHeaders: the gate a call's Finish passes when its headers may
// be sent on their own (StartSendInitialMetadata, at a job's start) rather
// than with a write. While such headers are in flight, between their send
// and gRPC's OnSendInitialMetadataDone, the call is not finished: finished
// beside them, it could leave as one trailers-only response, which gRPC's
// retry takes for no headers, and a call whose job ran was made again
// (job_start_headers.h says why waiting for OnSendInitialMetadataDone
// suffices). Once they are out, or gRPC says they never will be, the Finish
// held is due, and the gate lets it through once.
//
// It only decides; its owner calls gRPC. It takes no lock of its own: the
// owner's mutex guards it, so that the gate's answer is decided together
// with the owner's other conditions for finishing (StreamCall's mutex, with
// no write in flight and no thread between a decision and its gRPC call).
// Headers that go with a write need no gate: gRPC's Finish waits for a
// write in flight, and the owner waits for the write's reaction besides.

#ifndef HANDOFF_SERVER_FINISH_AFTER_HEADERS_H_
#define HANDOFF_SERVER_FINISH_AFTER_HEADERS_H_

namespace handoff {

class FinishAfterHeaders {
 public:
  // The call's headers are decided to go out on their own, before they are
  // handed to gRPC: no Finish passes until HeadersDone. At most once per
  // call (gRPC sends a call's headers once), and never once Finish passed.
  void HeadersSending();

  // From the reactor's OnSendInitialMetadataDone, ok or not: the headers
  // are out, or the call ended before they went. A Finish held is due.
  void HeadersDone();

  // Asked once the call is otherwise ready to be finished: true if it is to
  // be finished now, by the caller. True at most once per call; false while
  // headers are in flight (ask again after HeadersDone).
  bool TakeFinish();

  // Whether TakeFinish has said yes.
  bool finished() const { return finished_; }

 private:
  bool headers_in_flight_ = false;  // HeadersSending, not yet HeadersDone
  bool finished_ = false;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_FINISH_AFTER_HEADERS_H_
