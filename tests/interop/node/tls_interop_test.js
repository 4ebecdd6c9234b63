// Calls a handoffd that requires mutual TLS from Node (@grpc/grpc-js).
//
// Run by ctest (label interop) like interop_test.js, with TLS_TESTDATA set
// to the test certificates (tests/integration/server/testdata/tls). It
// starts handoffd with --tls_cert_file, --tls_key_file and
// --tls_client_ca_file on free loopback ports, waits until its health check
// (over TLS, with the client certificate) says SERVING, and stops it.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
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

const testdata = process.env.TLS_TESTDATA;
const pem = (name) => fs.readFileSync(path.join(testdata, name));

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

function unary(client, method, request, options) {
  return new Promise((resolve, reject) => {
    client[method](request, options, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Echo over fresh credentials; the client is closed afterwards.
async function echoWith(credentials) {
  const client = new Gateway(target, credentials);
  try {
    return await unary(client, 'Echo', { payload: Buffer.from('tls') },
      { deadline: deadlineIn(10000) });
  } finally {
    client.close();
  }
}

let server;
let exited;
let target;

before(async () => {
  const port = await freePort();
  const admin = await freePort();
  target = `127.0.0.1:${port}`;
  server = spawn(process.env.HANDOFFD, [
    `--listen=${target}`, `--admin_listen=127.0.0.1:${admin}`, '--workers=2',
    `--tls_cert_file=${path.join(testdata, 'server.pem')}`,
    `--tls_key_file=${path.join(testdata, 'server.key')}`,
    `--tls_client_ca_file=${path.join(testdata, 'ca.pem')}`,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  const health = new Health(target,
    grpc.credentials.createSsl(pem('ca.pem'), pem('client.key'), pem('client.pem')));
  try {
    await new Promise((resolve, reject) => health.waitForReady(deadlineIn(30000),
      (err) => (err ? reject(err) : resolve())));
    const reply = await unary(health, 'Check', { service: '' }, { deadline: deadlineIn(5000) });
    assert.strictEqual(reply.status, 'SERVING');
  } finally {
    health.close();
  }
});

after(async () => {
  server.kill('SIGTERM');
  const { code } = await exited;
  assert.strictEqual(code, 0, 'handoffd did not exit 0');
});

test('Echo with a client certificate from the CA', async () => {
  const reply = await echoWith(
    grpc.credentials.createSsl(pem('ca.pem'), pem('client.key'), pem('client.pem')));
  assert.deepStrictEqual(reply.payload, Buffer.from('tls'));
});

test('without a client certificate: UNAVAILABLE', async () => {
  await assert.rejects(echoWith(grpc.credentials.createSsl(pem('ca.pem'))),
    (err) => err.code === grpc.status.UNAVAILABLE);
});

test('plaintext: UNAVAILABLE', async () => {
  await assert.rejects(echoWith(grpc.credentials.createInsecure()),
    (err) => err.code === grpc.status.UNAVAILABLE);
});
