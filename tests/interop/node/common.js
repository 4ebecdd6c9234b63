// What the Node interop tests share: the services, loaded from the .proto
// files; free loopback ports; a promise form of unary calls; and a
// handoffd started as a subprocess and waited for until its health check
// says SERVING.
'use strict';

const assert = require('node:assert');
const { spawn } = require('node:child_process');
const net = require('node:net');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const loadOptions = { keepCase: true, longs: Number, enums: String, defaults: true };
const gatewayDef = protoLoader.loadSync('handoff/v1/gateway.proto',
  { ...loadOptions, includeDirs: [process.env.PROTO_ROOT] });
const healthDef = protoLoader.loadSync('grpc/health/v1/health.proto',
  { ...loadOptions, includeDirs: [process.env.HEALTH_PROTO_ROOT] });
const { Gateway } = grpc.loadPackageDefinition(gatewayDef).handoff.v1;
const { Health } = grpc.loadPackageDefinition(healthDef).grpc.health.v1;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function deadlineIn(ms) { return new Date(Date.now() + ms); }

// Promise form of a unary call.
function unary(client, method, request, options) {
  return new Promise((resolve, reject) => {
    client[method](request, options, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Starts $HANDOFFD with `flags` on free loopback ports and resolves once its
// health check, over `credentials`, says SERVING. `stop()` sends SIGTERM and
// resolves with the exit code.
async function startHandoffd(flags, credentials) {
  const port = await freePort();
  const admin = await freePort();
  const target = `127.0.0.1:${port}`;
  const server = spawn(process.env.HANDOFFD, [
    `--listen=${target}`, `--admin_listen=127.0.0.1:${admin}`, '--workers=2', ...flags,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  const health = new Health(target, credentials);
  try {
    // waitForReady rides out the time before handoffd listens; SERVING is
    // the server's own readiness signal; the deadline bounds the wait.
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
