// Calls a real handoffd from Node (@grpc/grpc-js + @grpc/proto-loader).
//
// Run by ctest (label interop) with node's built-in test runner:
//   HANDOFFD=PATH PROTO_ROOT=DIR HEALTH_PROTO_ROOT=DIR NODE_PATH=.../node_modules \
//     README=PATH node --test interop_test.js
// It starts handoffd on loopback ports it picks, waits until its health check
// says SERVING, and stops it at the end.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
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

// README's status table, as Node's client sees it: each code, the server's
// own message, and no rich error details (handoffd sends none, so a
// grpc-status-details-bin trailer would be a change to document).
async function assertRefused(promise, code, messageStart) {
  await assert.rejects(promise, (err) => {
    assert.strictEqual(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.ok(err.details.startsWith(messageStart), err.details);
    assert.deepStrictEqual(err.metadata.get('grpc-status-details-bin'), []);
    return true;
  });
}

// A unary call that sends `bytes` as they are.
function rawUnary(method, bytes) {
  const same = (b) => b;
  return new Promise((resolve, reject) => {
    gateway.makeUnaryRequest(method, same, same, bytes, { deadline: deadlineIn(5000) },
      (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

test('status table: unknown method is UNIMPLEMENTED, naming it', () => assertRefused(
  rawUnary('/handoff.v1.Gateway/Nope', Buffer.alloc(0)),
  grpc.status.UNIMPLEMENTED, 'unknown method /handoff.v1.Gateway/Nope: '));

test('status table: bytes that do not parse are INTERNAL', () => assertRefused(
  // Field 3 (payload), length-delimited, claiming 5 bytes and having 2.
  rawUnary('/handoff.v1.Gateway/Work', Buffer.from([0x1a, 0x05, 0x61, 0x62])),
  grpc.status.INTERNAL, 'request does not parse'));

test('status table: a field out of range is INVALID_ARGUMENT, naming it', async () => {
  await assertRefused(unary(gateway, 'Work', { cpu_us: 10000001 }, { deadline: deadlineIn(5000) }),
    grpc.status.INVALID_ARGUMENT, 'cpu_us: ');
  await assertRefused(unary(gateway, 'Batch', { items: [{}, {}, {}, { sleep_us: 60000001 }] },
    { deadline: deadlineIn(5000) }), grpc.status.INVALID_ARGUMENT, 'items[3].sleep_us: ');
});

test('status table: a message over the limit is RESOURCE_EXHAUSTED', () => assertRefused(
  unary(gateway, 'Echo', { payload: Buffer.alloc(5 << 20) }, { deadline: deadlineIn(10000) }),
  grpc.status.RESOURCE_EXHAUSTED, 'Received message larger than max'));

test('status table: a deadline shorter than the work is refused by the server at once', () =>
  // The server's own message: Node's deadline option reached handoffd.
  assertRefused(unary(gateway, 'Work', { cpu_us: 5000000 }, { deadline: deadlineIn(1000) }),
    grpc.status.DEADLINE_EXCEEDED, 'deadline too short: '));

test('a Work reply spent at least the CPU asked for', async () => {
  const reply = await unary(gateway, 'Work', { cpu_us: 3000 }, { deadline: deadlineIn(5000) });
  assert.ok(reply.cpu_us_done >= 3000, `cpu_us_done ${reply.cpu_us_done}`);
  assert.ok([0, 1].includes(reply.worker), `worker ${reply.worker}`); // --workers=2, 0-based
});

// The block of README marked `<!-- snippet: NAME -->`, as README shows it.
function readmeSnippet(name, language) {
  const text = fs.readFileSync(process.env.README, 'utf8');
  const marker = `<!-- snippet: ${name} -->\n\`\`\`${language}\n`;
  const start = text.indexOf(marker);
  assert.notStrictEqual(start, -1, `README has no ${marker.trim()}`);
  const body = start + marker.length;
  return text.slice(body, text.indexOf('\n```', body) + 1);
}

test("README's Node example prints the payload handoffd echoed, and exits", async () => {
  const code = readmeSnippet('node_client', 'js');
  // The one change: the server README's example calls is this test's.
  const readmeTarget = "'localhost:50051'";
  assert.strictEqual(code.split(readmeTarget).length, 2,
    `README's Node example should name ${readmeTarget} once`);
  // From the checkout's root, where README's `includeDirs: ['proto']` points.
  const { stdout } = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', code.replace(readmeTarget, `'${handoffd.target}'`)],
      { cwd: path.dirname(process.env.README), timeout: 30000 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`))
        : resolve({ stdout: out })));
  });
  assert.strictEqual(stdout, 'hi\n');
});
