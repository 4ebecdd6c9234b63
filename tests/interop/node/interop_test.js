// Calls a real handoffd from Node (@grpc/grpc-js + @grpc/proto-loader).
//
// Run by ctest (label interop) with node's built-in test runner:
//   HANDOFFD=PATH PROTO_ROOT=DIR HEALTH_PROTO_ROOT=DIR NODE_PATH=.../node_modules \
//     node --test interop_test.js
// It starts handoffd on free loopback ports, waits until its health check
// says SERVING, and stops it at the end.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
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

let server;
let exited;
let gateway;
let health;

before(async () => {
  const port = await freePort();
  const admin = await freePort();
  server = spawn(process.env.HANDOFFD, [
    `--listen=127.0.0.1:${port}`, `--admin_listen=127.0.0.1:${admin}`, '--workers=2',
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  const target = `127.0.0.1:${port}`;
  gateway = new Gateway(target, grpc.credentials.createInsecure());
  health = new Health(target, grpc.credentials.createInsecure());
  // waitForReady rides out the time before handoffd listens; SERVING is the
  // server's own readiness signal; the deadline bounds the wait.
  await new Promise((resolve, reject) => health.waitForReady(deadlineIn(30000),
    (err) => (err ? reject(err) : resolve())));
  const reply = await unary(health, 'Check', { service: '' }, { deadline: deadlineIn(5000) });
  assert.strictEqual(reply.status, 'SERVING');
});

after(async () => {
  gateway.close();
  health.close();
  server.kill('SIGTERM');
  const { code } = await exited;
  assert.strictEqual(code, 0, 'handoffd did not exit 0');
});

test('health check says SERVING', async () => {
  const reply = await unary(health, 'Check', { service: '' }, { deadline: deadlineIn(5000) });
  assert.strictEqual(reply.status, 'SERVING');
});

test('Echo returns the payload', async () => {
  const reply = await unary(gateway, 'Echo', { payload: Buffer.from('hello') },
    { deadline: deadlineIn(5000) });
  assert.deepStrictEqual(reply.payload, Buffer.from('hello'));
});

test('Work past its deadline is DEADLINE_EXCEEDED', async () => {
  await assert.rejects(
    unary(gateway, 'Work', { sleep_us: 5000000 }, { deadline: deadlineIn(200) }),
    (err) => err.code === grpc.status.DEADLINE_EXCEEDED);
});

test('Work returns its timings', async () => {
  const reply = await unary(gateway, 'Work', { cpu_us: 100, sleep_us: 1000, payload: Buffer.from('w') },
    { deadline: deadlineIn(5000) });
  assert.deepStrictEqual(reply.payload, Buffer.from('w'));
  assert.ok(reply.ran_us >= 1000, `ran_us ${reply.ran_us}`);
});

test('Stream replies in request order', async () => {
  const call = gateway.Stream({ deadline: deadlineIn(10000) });
  const got = [];
  const done = new Promise((resolve, reject) => {
    call.on('data', (reply) => got.push(reply.payload[0]));
    call.on('error', reject);
    call.on('end', resolve);
  });
  for (let i = 0; i < 10; i++) call.write({ payload: Buffer.from([i]) });
  call.end();
  await done;
  assert.deepStrictEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
