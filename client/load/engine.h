// LoadEngine: what makes the calls of a load run.
//
// Two engines make the same calls and fill the same report:
//   GrpcEngine  gRPC C++'s own client: any method, TLS, streaming.
//   H2Engine    unary calls over plaintext HTTP/2, framed by nghttp2 as
//               h2load frames them, at a fraction of gRPC's client CPU per
//               call. On a machine the generator shares with the server,
//               that CPU is taken from the server being measured.
// LoadRunner picks one (--engine).
#ifndef HANDOFF_CLIENT_LOAD_ENGINE_H_
#define HANDOFF_CLIENT_LOAD_ENGINE_H_

#include <vector>

#include "absl/status/status.h"
#include "client/load/recorder.h"
#include "client/load/schedule.h"

namespace handoff::load {

class LoadEngine {
 public:
  virtual ~LoadEngine() = default;

  // Opens every connection and waits until each is ready, up to
  // --connect-timeout. A failure names the target.
  virtual absl::Status Connect() = 0;

  // Makes calls as `schedule` hands them out, on the engine's own threads,
  // until it has none left and every call has ended. One Recorder per
  // thread. Called once, after Connect succeeded.
  virtual std::vector<Recorder> Run(CallSchedule& schedule) = 0;

  // Ends the run as the end of -z does, and ends the calls in flight as
  // --duration-stop says. Once the schedule is cancelled (an interrupt,
  // CallSchedule::Cancel), it wakes the slots waiting for their next call's
  // time, which then retire. Otherwise (the run's time is up) a slot
  // waiting for a call makes it at its due time, which is before the end
  // (CallSchedule::Take), and ends it at once as --duration-stop says, as
  // ghz makes a call its pacer handed out before the end: whether the
  // call's timer or the end's ran first does not decide it. From any thread, any time after Connect
  // succeeded: before Run, Run then ends at once; after it, nothing.
  virtual void Cancel() = 0;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_ENGINE_H_
