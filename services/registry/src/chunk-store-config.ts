import { join } from 'node:path';
import { ChunkStore, loadS3Credentials } from '@vitrine/chunks';
import type { RegistryConfig } from './config.js';

/** How the config names the chunk store's settings in messages. */
const SETTING = 'registry.chunkStore';

/**
 * Opens the chunk store the config names: pack files below `dataDir/chunks`, or the S3
 * bucket of `chunkStore`, with its access key from the credentials file or `env`. Throws,
 * naming the setting, when the bucket cannot be used.
 *
 * Local chunks are made durable in groups: once per upload, before the manifest that names
 * them is committed (Artifacts.push), and once per group of chunks received from peers,
 * before they are recorded (ChunkRecorder). A bucket's object is durable once stored.
 */
export async function openChunkStore(
  config: RegistryConfig,
  env: NodeJS.ProcessEnv,
): Promise<ChunkStore> {
  const settings = config.chunkStore;
  switch (settings.kind) {
    case 'local':
      return ChunkStore.open(join(config.dataDir, 'chunks'), { durability: 'deferred' });
    case 's3':
      return ChunkStore.openS3({
        endpoint: settings.endpoint,
        bucket: settings.bucket,
        region: settings.region,
        prefix: settings.prefix,
        pathStyle: settings.pathStyle,
        maxInFlight: settings.maxInFlight,
        credentials: await loadS3Credentials(settings.credentialsFile, env, SETTING),
        settingPrefix: SETTING,
      });
    default: {
      const unknown: never = settings;
      throw new Error(`unknown chunk store ${JSON.stringify(unknown)}`);
    }
  }
}
