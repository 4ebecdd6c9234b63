// Copyright 2026 The handoff Authors.
//
// seeds/003, "share memory by communicating": a map owned by one thread,
// which readers and writers reach only through requests that carry their
// own reply channels, served one at a time by a select over both request
// channels, until the owner's context ends. CI runs this label under
// ThreadSanitizer, where any touch of the map from another thread is a race.

#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff {
namespace {

struct ReadOp {
  int key = 0;
  Chan<int> resp;
};

struct WriteOp {
  int key = 0;
  int val = 0;
  Chan<bool> resp;
};

// The owner and the two ways in. Every request gives up with the caller's
// context, on the send as on the reply (the seed's part 2: no request may
// outlive its caller or its owner), and its reply channel has room for the
// answer, so that the owner never waits for a caller who left.
class OwnedMap {
 public:
  explicit OwnedMap(Context ctx)
      : owner_([this, ctx = std::move(ctx)] { Serve(ctx); }) {}
  ~OwnedMap() { owner_.join(); }

  // nullopt if `ctx` ended first.
  std::optional<int> Read(const Context& ctx, int key) const {
    Chan<int> resp(1);
    return Ask(ctx, reads_, ReadOp{key, resp}, resp);
  }
  bool Write(const Context& ctx, int key, int val) const {
    Chan<bool> resp(1);
    return Ask(ctx, writes_, WriteOp{key, val, resp}, resp).has_value();
  }

  // The map as the owner left it, once its context has ended.
  std::map<int, int> Final() const { return *final_.Recv(); }

 private:
  template <typename Op, typename R>
  static std::optional<R> Ask(const Context& ctx, const Chan<Op>& to, Op op,
                              const Chan<R>& resp) {
    bool sent = false;
    Select(OnSend(to, std::move(op), [&] { sent = true; }), OnDone(ctx, [] {}));
    if (!sent) return std::nullopt;
    std::optional<R> out;
    Select(OnRecv(resp, [&](std::optional<R> r) { out = std::move(r); }),
           OnDone(ctx, [] {}));
    return out;
  }

  void Serve(const Context& ctx) {
    std::map<int, int> state;  // this thread's alone
    for (bool serving = true; serving;) {
      // The request channels are never closed: each receive has a value.
      Select(OnRecv(reads_,
                    [&](std::optional<ReadOp> r) {
                      ASSERT_TRUE(r.has_value());
                      ASSERT_TRUE(r->resp.TrySend(state[r->key]).ok());
                    }),
             OnRecv(writes_,
                    [&](std::optional<WriteOp> w) {
                      ASSERT_TRUE(w.has_value());
                      state[w->key] = w->val;
                      ASSERT_TRUE(w->resp.TrySend(true).ok());
                    }),
             OnDone(ctx, [&] { serving = false; }));
    }
    ASSERT_TRUE(final_.Send(std::move(state)).ok());
  }

  const Chan<ReadOp> reads_{0};
  const Chan<WriteOp> writes_{0};
  const Chan<std::map<int, int>> final_{1};
  std::thread owner_;
};

// Writer w alone writes key w, counting up, and reads each value back after
// its write's ack. Readers read every key meanwhile and must never see a key
// go back to an older value: the owner applies one request at a time, in the
// order it took them.
TEST(OwnedStateTest, ReadsAndWritesAreServedOneAtATimeByTheOwner) {
  constexpr int kWriters = 4, kReaders = 4;
  const int writes = 500 / testing::kScale;
  auto [owner_ctx, stop_owner] = WithCancel(Context::Background());
  OwnedMap map(owner_ctx);
  const Context background = Context::Background();

  auto [readers_ctx, stop_readers] = WithCancel(Context::Background());
  std::vector<std::thread> readers;
  std::vector<int> reads_done(kReaders, 0);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r, ctx = readers_ctx] {
      std::vector<int> last(kWriters, 0);
      for (int i = 0;; ++i) {
        const int key = (r + i) % kWriters;
        std::optional<int> v = map.Read(ctx, key);
        if (!v.has_value()) return;  // stopped
        ASSERT_GE(*v, last[key]) << "key " << key << " went back";
        last[key] = *v;
        ++reads_done[r];
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int val = 1; val <= writes; ++val) {
        ASSERT_TRUE(map.Write(background, w, val));
        ASSERT_EQ(map.Read(background, w), val) << "writer " << w;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  stop_readers();
  for (std::thread& t : readers) t.join();
  for (int r = 0; r < kReaders; ++r) EXPECT_GT(reads_done[r], 0) << "reader " << r;

  stop_owner();
  std::map<int, int> final = map.Final();
  ASSERT_EQ(final.size(), static_cast<size_t>(kWriters));
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(final[w], writes) << "key " << w;
}

// A request to an owner that has stopped waits only as long as its caller's
// context, and then says so: it never hangs.
TEST(OwnedStateTest, ARequestToAStoppedOwnerEndsWithItsCallersContext) {
  auto [owner_ctx, stop_owner] = WithCancel(Context::Background());
  OwnedMap map(owner_ctx);
  ASSERT_TRUE(map.Write(Context::Background(), 1, 10));
  stop_owner();
  EXPECT_EQ(map.Final(), (std::map<int, int>{{1, 10}}));

  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
  EXPECT_EQ(map.Read(ctx, 1), std::nullopt);
  EXPECT_FALSE(map.Write(ctx, 1, 11));
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err())) << ctx.Err();
}

}  // namespace
}  // namespace handoff
