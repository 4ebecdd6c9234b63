// What the Node interop tests share: the services, loaded from the .proto
// files; a promise form of unary calls; and a handoffd started as a
// subprocess on loopback ports it picks, waited for until its health check
// says SERVING.
'use strict';

const assert = require('node:assert');
const { spawn } = require('node:child_process');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const loadOptions = { keepCase: true, longs: Number, enums: String, defaults: true };
const gatewayDef = protoLoader.loadSync('handoff/v1/gateway.proto',
  { ...loadOptions, includeDirs: [process.env.PROTO_ROOT] });
const healthDef = protoLoader.loadSync('grpc/health/v1/health.proto',
  { ...loadOptions, includeDirs: [process.env.HEALTH_PROTO_ROOT] });
const { Gateway } = grpc.loadPackageDefinition(gatewayDef).handoff.v1;
const { Health } = grpc.loadPackageDefinition(healthDef).grpc.health.v1;

// handoffd's start-up line (server/main.cc), printed once both ports are bound.
const STARTUP = /serving gRPC on port (\d+) \(admin HTTP on port (\d+)\)/;

// Resolves with the gRPC port once `server` prints its start-up line; rejects
// if it exits first. Its output is passed on to ours. Letting handoffd bind
// port 0 and say what it got leaves no window for another process (or the
// next free-port probe) to take a port between picking and binding it.
function listeningPort(server) {
  return new Promise((resolve, reject) => {
    let seen = '';
    server.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      if (seen === null) return;
      seen += chunk;
      const m = STARTUP.exec(seen);
      if (m) { seen = null; resolve(Number(m[1])); }
    });
    server.on('exit', (code) => reject(new Error(
      `handoffd exited ${code} before naming its ports: ${seen}`)));
  });
}

function deadlineIn(ms) { return new Date(Date.now() + ms); }

// Promise form of a unary call.
function unary(client, method, request, options) {
  return new Promise((resolve, reject) => {
    client[method](request, options, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Starts $HANDOFFD with `flags` on loopback ports it picks and resolves once
// its health check, over `credentials`, says SERVING. `stop()` sends SIGTERM
// and resolves with the exit code.
async function startHandoffd(flags, credentials) {
  const server = spawn(process.env.HANDOFFD, [
    '--listen=127.0.0.1:0', '--admin_listen=127.0.0.1:0', '--workers=2', ...flags,
  ], { stdio: ['ignore', 'inherit', 'pipe'] });
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  const target = `127.0.0.1:${await listeningPort(server)}`;
  const health = new Health(target, credentials);
  try {
    // handoffd is listening once it has named its ports; SERVING is its own
    // readiness signal; the deadline bounds the wait.
    await new Promise((resolve, reject) => health.waitForReady(deadlineIn(30000),
      (err) => (err ? reject(err) : resolve())));
    const reply = await unary(health, 'Check', { service: '' }, { deadline: deadlineIn(5000) });
    assert.strictEqual(reply.status, 'SERVING');
  } finally {
    health.close();
  }
  return {
    target,
    stop: () => { server.kill('SIGTERM'); return exited; },
  };
}

module.exports = { grpc, Gateway, Health, deadlineIn, unary, startHandoffd };
