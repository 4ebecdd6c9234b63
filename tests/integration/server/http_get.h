// Copyright 2026 The handoff Authors.
//
// HttpGet: one plain HTTP/1.1 GET against a loopback port, for the tests
// that read handoffd's admin endpoints from outside the process. The admin
// server closes the connection after each response, so the whole reply
// (status line, headers, body) is what was read until the close.

#ifndef HANDOFF_TESTS_INTEGRATION_SERVER_HTTP_GET_H_
#define HANDOFF_TESTS_INTEGRATION_SERVER_HTTP_GET_H_

#include <asio.hpp>
#include <string>

namespace handoff::testing {

inline std::string HttpGet(int port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"),
                  static_cast<unsigned short>(port)});
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  std::string out;
  asio::error_code ec;
  asio::read(socket, asio::dynamic_buffer(out), ec);  // until close
  return out;
}

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_INTEGRATION_SERVER_HTTP_GET_H_
