// handoff_fake_gateway: FakeGateway (with health and reflection) as a
// process, for CLI tests and for measuring `handoff load` against h2load
// on a server that costs next to nothing.
//
// Prints "listening on 127.0.0.1:PORT" once serving, then serves until
// killed. Flags: --port=N (default 0: any free port).
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "fake_gateway.h"

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--port=") || !absl::SimpleAtoi(arg.substr(7), &port)) {
      std::cerr << "usage: handoff_fake_gateway [--port=N]\n";
      return 2;
    }
  }
  auto server = handoff::testing::FakeServer::Start(/*reflection=*/true, port);
  std::cout << "listening on " << server.address << std::endl;
  server.server->Wait();
  return 0;
}
