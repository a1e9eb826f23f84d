export { deterministicBytes } from './deterministic-bytes.js';
export { freePort, freePortBlock } from './free-port.js';
export { grpcCodeOf } from './grpc-code.js';
export { DEFAULT_TEST_POSTGRES_URL } from './postgres-probe.js';
export { alterStoredBytes, findStoredBytes } from './stored-bytes.js';
export { type TempDir, tempDir } from './temp-dir.js';
export {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
  type TestKeyPair,
} from './test-certificates.js';
export { TestClock } from './test-clock.js';
export { type TestBackend, type TestDatabase, testBackends } from './test-databases.js';
export {
  type TestGateway,
  testGateway,
  testGatewaySkipReason,
} from './test-gateway.js';
export { startTestTrust, type TestCaller, type TestGrant, type TestTrust } from './test-trust.js';
