// Copyright 2026 The handoff Authors.
//
// Must not compile, once for each of HANDOFF_CASE 1 to 3: an operation the
// half of a channel does not have (directional_chan.h). The tests
// directional_chan_* compile this file alone with one case and expect the
// compiler's "no member named" for that operation; with no case it
// compiles, so that no other error can pass for one.

#include "dispatch/chan.h"
#include "dispatch/directional_chan.h"

int main() {
  handoff::Chan<int> ch(1);
  handoff::SendChan<int> out = ch;
  handoff::RecvChan<int> in = ch;
#if HANDOFF_CASE == 1
  (void)in.Send(1);  // a receiver cannot send
#elif HANDOFF_CASE == 2
  (void)in.Close();  // nor close what others send on
#elif HANDOFF_CASE == 3
  (void)out.Recv();  // a sender cannot receive
#endif
  (void)out.Send(1);
  return in.Recv() == 1 ? 0 : 1;
}
