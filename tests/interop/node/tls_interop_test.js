// Calls a handoffd that requires mutual TLS from Node (@grpc/grpc-js).
//
// Run by ctest (label interop) like interop_test.js, with TLS_TESTDATA set
// to the test certificates (tests/integration/server/testdata/tls). It
// starts handoffd with --tls_cert_file, --tls_key_file and
// --tls_client_ca_file on loopback ports it picks, waits until its health check
// (over TLS, with the client certificate) says SERVING, and stops it.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { grpc, Gateway, deadlineIn, unary, startHandoffd } = require('./common');

const testdata = process.env.TLS_TESTDATA;
const pem = (name) => fs.readFileSync(path.join(testdata, name));
const withClientCert = () =>
  grpc.credentials.createSsl(pem('ca.pem'), pem('client.key'), pem('client.pem'));

let handoffd;

// Echo over fresh credentials; the client is closed afterwards.
async function echoWith(credentials) {
  const client = new Gateway(handoffd.target, credentials);
  try {
    return await unary(client, 'Echo', { payload: Buffer.from('tls') },
      { deadline: deadlineIn(10000) });
  } finally {
    client.close();
  }
}

before(async () => {
  handoffd = await startHandoffd([
    `--tls_cert_file=${path.join(testdata, 'server.pem')}`,
    `--tls_key_file=${path.join(testdata, 'server.key')}`,
    `--tls_client_ca_file=${path.join(testdata, 'ca.pem')}`,
  ], withClientCert());
});

after(async () => {
  assert.strictEqual(await handoffd.stop(), 0, 'handoffd did not exit 0');
});

test('Echo with a client certificate from the CA', async () => {
  const reply = await echoWith(withClientCert());
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
