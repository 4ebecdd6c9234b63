// Copyright 2026 The handoff Authors.
//
// SendChan<T> and RecvChan<T>: one half of a channel, Go's `chan<- T` and
// `<-chan T`.
//
//   Chan<Result> results(16);
//   void Produce(SendChan<Result> out);   // may Send and Close; no Recv
//   void Consume(RecvChan<Result> in);    // may Recv and range; no Send, no Close
//   Produce(results);                     // a Chan converts to either half
//   Consume(results);
//
// A function that takes one half can do only that half's operations, and
// the compiler says so of one that tries another (tests/unit/dispatch/
// directional_chan_compile_fail.cc). In particular only a sender can close:
// a receiver that closes a channel others still send on makes their sends
// fail, so, as in Go, the half handed to receivers has no Close. Neither
// half converts back to a Chan.
//
// A half is a handle like Chan: copies refer to the same channel, whose
// semantics (chan.h) are unchanged. A default-constructed half is nil. In a
// select, OnSend takes a SendChan and OnRecv (and AsyncRecv) a RecvChan, as
// they take a Chan.

#ifndef HANDOFF_DISPATCH_DIRECTIONAL_CHAN_H_
#define HANDOFF_DISPATCH_DIRECTIONAL_CHAN_H_

#include <cstddef>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dispatch/chan.h"
#include "dispatch/select.h"

namespace handoff {

namespace internal {
struct DirectionalAccess;
}  // namespace internal

template <typename T>
class SendChan {
 public:
  using value_type = T;

  SendChan() = default;  // nil
  // Implicit, as Go assigns a `chan T` to a `chan<- T`.
  SendChan(const Chan<T>& ch) : ch_(ch) {}  // NOLINT(google-explicit-constructor)

  absl::Status Send(T&& v) const { return ch_.Send(std::move(v)); }
  absl::Status Send(const T& v) const { return ch_.Send(v); }
  absl::Status TrySend(T&& v) const { return ch_.TrySend(std::move(v)); }
  absl::Status TrySend(const T& v) const { return ch_.TrySend(v); }
  absl::Status Close() const { return ch_.Close(); }

  size_t size() const { return ch_.size(); }
  size_t capacity() const { return ch_.capacity(); }
  bool closed() const { return ch_.closed(); }
  bool is_nil() const { return ch_.is_nil(); }

  friend bool operator==(const SendChan& a, const SendChan& b) { return a.ch_ == b.ch_; }

 private:
  friend struct internal::DirectionalAccess;

  Chan<T> ch_;
};

template <typename T>
class RecvChan {
 public:
  using value_type = T;

  RecvChan() = default;  // nil
  // Implicit, as Go assigns a `chan T` to a `<-chan T`.
  RecvChan(const Chan<T>& ch) : ch_(ch) {}  // NOLINT(google-explicit-constructor)

  std::optional<T> Recv() const { return ch_.Recv(); }
  absl::StatusOr<T> TryRecv() const { return ch_.TryRecv(); }

  size_t size() const { return ch_.size(); }
  size_t capacity() const { return ch_.capacity(); }
  bool closed() const { return ch_.closed(); }
  bool is_nil() const { return ch_.is_nil(); }

  // `for (T& v : in)` receives until closed and drained (Chan::Iterator).
  typename Chan<T>::Iterator begin() const { return ch_.begin(); }
  typename Chan<T>::Iterator end() const { return ch_.end(); }

  friend bool operator==(const RecvChan& a, const RecvChan& b) { return a.ch_ == b.ch_; }

 private:
  friend struct internal::DirectionalAccess;

  Chan<T> ch_;
};

namespace internal {
// The whole channel behind a half, for the select cases below only.
struct DirectionalAccess {
  template <typename T>
  static const Chan<T>& Of(const SendChan<T>& half) {
    return half.ch_;
  }
  template <typename T>
  static const Chan<T>& Of(const RecvChan<T>& half) {
    return half.ch_;
  }
};
}  // namespace internal

template <typename T, typename F>
auto OnRecv(const RecvChan<T>& ch, F&& fn) {
  return OnRecv(internal::DirectionalAccess::Of(ch), std::forward<F>(fn));
}

template <typename T, typename V, typename F>
auto OnSend(const SendChan<T>& ch, V&& value, F&& fn) {
  return OnSend(internal::DirectionalAccess::Of(ch), std::forward<V>(value),
                std::forward<F>(fn));
}

template <typename T, typename F>
void AsyncRecv(const RecvChan<T>& ch, F&& fn) {
  AsyncRecv(internal::DirectionalAccess::Of(ch), std::forward<F>(fn));
}

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_DIRECTIONAL_CHAN_H_
