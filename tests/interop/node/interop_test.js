// Calls a real handoffd from Node (@grpc/grpc-js + @grpc/proto-loader).
//
// Run by ctest (label interop) with node's built-in test runner:
//   HANDOFFD=PATH PROTO_ROOT=DIR HEALTH_PROTO_ROOT=DIR NODE_PATH=.../node_modules \
//     node --test interop_test.js
// It starts handoffd on loopback ports it picks, waits until its health check
// says SERVING, and stops it at the end.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { grpc, Gateway, Health, deadlineIn, unary, startHandoffd } = require('./common');

let handoffd;
let gateway;
let health;

before(async () => {
  handoffd = await startHandoffd([], grpc.credentials.createInsecure());
  gateway = new Gateway(handoffd.target, grpc.credentials.createInsecure());
  health = new Health(handoffd.target, grpc.credentials.createInsecure());
});

after(async () => {
  gateway.close();
  health.close();
  assert.strictEqual(await handoffd.stop(), 0, 'handoffd did not exit 0');
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
