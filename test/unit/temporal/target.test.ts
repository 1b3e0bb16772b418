// Which Temporal a command talks to, from the environment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devServerPorts, resolveTarget } from '../../../lib/temporal/target';

let dir: string;
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dual-ipo-target-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded dev server (no TEMPORAL_ADDRESS)', () => {
  test('defaults: 127.0.0.1:7233, Web UI on 8233, namespace default', () => {
    assert.deepEqual(resolveTarget({}, {}), { address: '127.0.0.1:7233', namespace: 'default', embedded: true, uiUrl: 'http://127.0.0.1:8233' });
  });

  test('DUAL_IPO_TEMPORAL_PORT moves the UI along (port + 1000) unless DUAL_IPO_TEMPORAL_UI_PORT is set', () => {
    assert.deepEqual(devServerPorts({ DUAL_IPO_TEMPORAL_PORT: '17233' }), { port: 17233, uiPort: 18233 });
    assert.deepEqual(devServerPorts({ DUAL_IPO_TEMPORAL_PORT: '17233', DUAL_IPO_TEMPORAL_UI_PORT: '9000' }), { port: 17233, uiPort: 9000 });
    const target = resolveTarget({}, { DUAL_IPO_TEMPORAL_PORT: '17233', TEMPORAL_NAMESPACE: 'research' });
    assert.equal(target.address, '127.0.0.1:17233');
    assert.equal(target.namespace, 'research');
    assert.equal(target.uiUrl, 'http://127.0.0.1:18233');
  });

  test('a bad port names the variable', () => {
    assert.throws(() => devServerPorts({ DUAL_IPO_TEMPORAL_PORT: 'seven' }), /DUAL_IPO_TEMPORAL_PORT must be a TCP port number.*"seven"/);
    assert.throws(() => devServerPorts({ DUAL_IPO_TEMPORAL_UI_PORT: '70000' }), /DUAL_IPO_TEMPORAL_UI_PORT/);
    assert.throws(() => devServerPorts({ DUAL_IPO_TEMPORAL_PORT: '9000', DUAL_IPO_TEMPORAL_UI_PORT: '9000' }), /must differ/);
  });

  test('cluster credentials without TEMPORAL_ADDRESS are refused rather than silently going local', () => {
    assert.throws(() => resolveTarget({}, { TEMPORAL_API_KEY: 'k' }), /TEMPORAL_API_KEY is set but TEMPORAL_ADDRESS is not/);
  });
});

describe('external cluster (TEMPORAL_ADDRESS)', () => {
  test('plain address: no TLS, nothing embedded', () => {
    assert.deepEqual(resolveTarget({}, { TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'dual-ipo' }), {
      address: 'temporal.internal:7233',
      namespace: 'dual-ipo',
      embedded: false,
    });
  });

  test('mTLS from files, with CA and server name override', () => {
    const env = {
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: file('client.pem', 'CERT'),
      TEMPORAL_TLS_KEY: file('client.key', 'KEY'),
      TEMPORAL_TLS_CA: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
    };
    const target = resolveTarget({}, env);
    assert.equal(target.embedded, false);
    assert.equal(target.tls?.serverNameOverride, 'frontend.internal');
    assert.equal(Buffer.from(target.tls!.serverRootCACertificate!).toString(), 'CA');
    assert.equal(Buffer.from(target.tls!.clientCertPair!.crt).toString(), 'CERT');
    assert.equal(Buffer.from(target.tls!.clientCertPair!.key).toString(), 'KEY');
    assert.equal(target.apiKey, undefined);
  });

  test('an API key implies TLS (system roots) unless TEMPORAL_TLS=false', () => {
    assert.deepEqual(resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_API_KEY: 'secret' }), { address: 'a:7233', namespace: 'default', embedded: false, tls: {}, apiKey: 'secret' });
    const plain = resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' });
    assert.equal(plain.tls, undefined);
    assert.equal(plain.apiKey, 'secret');
    assert.deepEqual(resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_TLS: 'true' }).tls, {});
  });

  test('configuration mistakes name the variable or file', () => {
    assert.throws(() => resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_TLS_CERT: file('only.pem', 'C') }), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together/);
    assert.throws(() => resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_TLS_CA: join(dir, 'missing.pem') }), /TEMPORAL_TLS_CA=.*missing\.pem: cannot read the file \(ENOENT\)/);
    assert.throws(() => resolveTarget({}, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_TLS: 'maybe' }), /TEMPORAL_TLS must be true or false/);
  });

  test('overrides win over the environment', () => {
    const target = resolveTarget({ address: 'b:7233', namespace: 'n2' }, { TEMPORAL_ADDRESS: 'a:7233', TEMPORAL_NAMESPACE: 'n1' });
    assert.equal(target.address, 'b:7233');
    assert.equal(target.namespace, 'n2');
  });
});
