import { createReadStream } from 'node:fs';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type {
  PushArtifactMetadataSchema,
  PushArtifactResponse,
  RegistryService,
} from '@vitrine/proto/registry';

const MIB = 1024 * 1024;

/**
 * Uploads a file to a registry as the CLI does (metadata, then data messages of 1 MiB read
 * from disk as the stream drains), so a benchmark's upload is what an operator's is.
 */
export async function pushFile(
  client: Client<typeof RegistryService>,
  path: string,
  metadata: MessageInitShape<typeof PushArtifactMetadataSchema>,
): Promise<PushArtifactResponse> {
  async function* upload() {
    yield { part: { case: 'metadata' as const, value: metadata } };
    for await (const data of createReadStream(path, { highWaterMark: MIB })) {
      yield { part: { case: 'data' as const, value: data as Buffer } };
    }
  }
  return client.pushArtifact(upload());
}
