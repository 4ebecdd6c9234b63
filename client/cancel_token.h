// CancelToken: cancel calls from another thread, Go-context style.
//
// Pass the same token in CallOptions to any number of calls; Cancel() ends
// every one still in flight with CANCELLED (the server sees the cancellation
// too) and makes any call started later fail with CANCELLED at once.
#ifndef HANDOFF_CLIENT_CANCEL_TOKEN_H_
#define HANDOFF_CLIENT_CANCEL_TOKEN_H_

#include <grpcpp/client_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace handoff {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Idempotent and safe from any thread, including a call's own callback.
  void Cancel();
  bool cancelled() const;

  // Used by Client: ties a live call to the token. Attach returns false if
  // the token is already cancelled (the caller then fails the call itself);
  // Detach must follow a successful Attach before the context is destroyed.
  bool Attach(grpc::ClientContext* context);
  void Detach(grpc::ClientContext* context);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // A set: a call's Detach must not walk every other call on the token.
  absl::flat_hash_set<grpc::ClientContext*> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_CANCEL_TOKEN_H_
