/**
 * A whole server process for the telemetry tests: starts telemetry from the environment
 * (as a service's main does), serves the stand-in registry with the default logger,
 * makes calls over gRPC and Connect, and stops. Whatever it prints is what a real
 * service would print.
 */
import { Health } from '@vitrine/proto/health';
import { RegistryService } from '@vitrine/proto/registry';
import {
  createConnectClient,
  createGrpcClient,
  createLogger,
  startServer,
  startTelemetry,
} from '../src/index.js';
import { echoFiles, echoRoutes } from './echo-registry.js';

const telemetry = await startTelemetry('telemetry-child');
const server = await startServer({
  port: 0,
  routes: echoRoutes,
  files: echoFiles,
  healthServices: ['vitrine.registry.v1.RegistryService'],
  logger: createLogger('telemetry-child'),
});
await createGrpcClient(RegistryService, server.url).listArtifacts({ product: 'p' });
await createConnectClient(RegistryService, server.url).listArtifacts({ product: 'p' });
for await (const _ of createGrpcClient(RegistryService, server.url).pullArtifact({
  id: 'size:10',
}));
await createGrpcClient(Health, server.url).check({});
await server.close();
await telemetry.shutdown();
