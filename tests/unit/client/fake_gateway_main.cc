// handoff_fake_gateway: FakeGateway (with health and reflection) as a
// process, for CLI tests and for measuring `handoff load` against h2load
// on a server that costs next to nothing.
//
// Prints "listening on 127.0.0.1:PORT" once serving, and "work started"
// when the first Work call begins waiting, then serves until killed. Flags: --port=N (default 0: any free port); --reflection_token=T
// (reflection calls without the metadata "x-reflection-token: T", and
// health checks without "x-health-token: T", are cancelled).
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "fake_gateway.h"

int main(int argc, char** argv) {
  int port = 0;
  std::string reflection_token;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--port=") && absl::SimpleAtoi(arg, &port)) continue;
    if (absl::ConsumePrefix(&arg, "--reflection_token=") && !arg.empty()) {
      reflection_token = std::string(arg);
      continue;
    }
    std::cerr << "usage: handoff_fake_gateway [--port=N] [--reflection_token=T]\n";
    return 2;
  }
  auto server = handoff::testing::FakeServer::Start(
      /*reflection=*/true, port, absl::InfiniteDuration(), /*gzip=*/true, reflection_token);
  std::cout << "listening on " << server.address << std::endl;
  std::thread([&server] {
    server.service->work_started().WaitForNotification();
    std::cout << "work started" << std::endl;
  }).detach();
  server.server->Wait();
  return 0;
}
