import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { VitrineError } from '@vitrine/errors';
import type { ChunkLayout } from './chunk-layout.js';
import { missingBucket, s3ErrorName, s3Failure, s3Status } from './s3-failure.js';
import type { S3ChunkSettings } from './s3-settings.js';
import { Semaphore } from './semaphore.js';

/** Times a create refused as conflicting with another writer's (409) is tried again. */
const MAX_CONFLICTS = 5;

/** The client's module, loaded only by a service that keeps chunks in a bucket. */
type S3Module = typeof import('@aws-sdk/client-s3');

/**
 * Chunks as objects of an S3-compatible bucket, one per chunk, named `<prefix><hex digest>`
 * (hex digests are spread evenly, so the key space needs no fan-out of its own). Several
 * processes may share a bucket: a chunk is created with `If-None-Match: *`, so of two
 * writers of one chunk the second is refused (412) and finds it stored — and as a key names
 * its content, what the first wrote is what the second would have. Each body is sent with
 * its Content-MD5, which the service checks before it stores anything. Every request,
 * whatever the caller, waits for one of `maxInFlight` slots.
 *
 * A successful PUT is durable, so {@link sync} has nothing to do.
 */
export class S3Layout implements ChunkLayout {
  readonly conditionalWrites = true;
  readonly #s3: S3Module;
  readonly #client: S3Client;
  readonly #settings: S3ChunkSettings;
  readonly #slots: Semaphore;

  private constructor(s3: S3Module, client: S3Client, settings: S3ChunkSettings) {
    this.#s3 = s3;
    this.#client = client;
    this.#settings = settings;
    this.#slots = new Semaphore(settings.maxInFlight);
  }

  /**
   * Connects to the bucket and checks it is there and the key may use it (HEAD bucket), so
   * a wrong endpoint, bucket or key stops a service at start, by setting.
   */
  static async open(settings: S3ChunkSettings): Promise<S3Layout> {
    const s3 = await import('@aws-sdk/client-s3');
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const { Agent } = await import('node:http');
    const client = new s3.S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.pathStyle,
      credentials: settings.credentials,
      // Content-MD5 is the checksum every S3-compatible service checks; the newer
      // x-amz-checksum headers are not known to all of them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({
        httpAgent: new Agent({ keepAlive: true, maxSockets: settings.maxInFlight }),
        connectionTimeout: 5_000,
      }),
    });
    const layout = new S3Layout(s3, client, settings);
    try {
      await layout.#slots.run(() =>
        client.send(new s3.HeadBucketCommand({ Bucket: settings.bucket })),
      );
    } catch (err) {
      client.destroy();
      // A HEAD answer has no body to name its error: 404 is the bucket's absence.
      throw s3Status(err) === 404
        ? missingBucket(err, settings)
        : s3Failure(err, settings, 'reach the bucket');
    }
    return layout;
  }

  /** The most requests that were in flight at once. */
  get peakInFlight(): number {
    return this.#slots.peak;
  }

  /** `s3://bucket/prefix`, for messages. */
  get location(): string {
    return `s3://${this.#settings.bucket}/${this.#settings.prefix}`;
  }

  async has(hex: string): Promise<boolean> {
    return (await this.#head(hex)) !== undefined;
  }

  async write(hex: string, data: Uint8Array, conflicts = 0): Promise<boolean> {
    const put = new this.#s3.PutObjectCommand({
      Bucket: this.#settings.bucket,
      Key: this.#key(hex),
      Body: data,
      ContentLength: data.length,
      ContentMD5: createHash('md5').update(data).digest('base64'),
      IfNoneMatch: '*',
    });
    try {
      await this.#slots.run(() => this.#client.send(put));
      return true;
    } catch (err) {
      // 412: stored already. 409: another writer's create of the same key is under way.
      if (s3Status(err) === 412) return false;
      if (s3Status(err) === 409 && conflicts < MAX_CONFLICTS) {
        return this.write(hex, data, conflicts + 1);
      }
      throw s3Failure(err, this.#settings, `store chunk ${hex}`);
    }
  }

  async read(hex: string): Promise<Buffer> {
    const bytes = await this.#get(hex);
    if (bytes === undefined) throw new VitrineError('not_found', `chunk ${hex} not found`);
    return bytes;
  }

  readBatch(hexes: readonly string[]): Promise<(Buffer | undefined)[]> {
    return Promise.all(hexes.map((hex) => this.#get(hex)));
  }

  async size(hex: string): Promise<number> {
    const size = await this.#head(hex);
    if (size === undefined) throw new VitrineError('not_found', `chunk ${hex} not found`);
    return size;
  }

  async delete(hex: string): Promise<boolean> {
    if (!(await this.has(hex))) return false;
    const del = new this.#s3.DeleteObjectCommand({
      Bucket: this.#settings.bucket,
      Key: this.#key(hex),
    });
    await this.#request(`delete chunk ${hex}`, () => this.#client.send(del));
    return true;
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {
    this.#client.destroy();
  }

  /**
   * Resolves when an object can be created in and removed from the bucket under the
   * store's prefix; throws `unavailable` naming the bucket, the setting and the service's
   * answer when not (a read-only key, a policy that refuses writes, a full quota).
   */
  async checkWritable(): Promise<void> {
    const Key = `${this.#settings.prefix}ready-${randomBytes(8).toString('hex')}`;
    const Bucket = this.#settings.bucket;
    await this.#request('take writes', () =>
      this.#client.send(new this.#s3.PutObjectCommand({ Bucket, Key, Body: 'ready\n' })),
    );
    await this.#request('delete objects', () =>
      this.#client.send(new this.#s3.DeleteObjectCommand({ Bucket, Key })),
    );
  }

  #key(hex: string): string {
    return `${this.#settings.prefix}${hex}`;
  }

  /** A chunk's size, or undefined when it is not stored. */
  async #head(hex: string): Promise<number | undefined> {
    const head = new this.#s3.HeadObjectCommand({
      Bucket: this.#settings.bucket,
      Key: this.#key(hex),
    });
    try {
      const answer = await this.#slots.run(() => this.#client.send(head));
      return answer.ContentLength ?? 0;
    } catch (err) {
      if (s3Status(err) === 404 && s3ErrorName(err) !== 'NoSuchBucket') return undefined;
      throw s3Failure(err, this.#settings, `look up chunk ${hex}`);
    }
  }

  /** A chunk's bytes, read whole before its slot is freed; undefined when not stored. */
  #get(hex: string): Promise<Buffer | undefined> {
    const get = new this.#s3.GetObjectCommand({
      Bucket: this.#settings.bucket,
      Key: this.#key(hex),
    });
    return this.#slots
      .run(async () => {
        const answer = await this.#client.send(get);
        return collect(answer.Body as Readable);
      })
      .catch((err: unknown) => {
        if (s3ErrorName(err) === 'NoSuchKey') return undefined;
        throw s3Failure(err, this.#settings, `read chunk ${hex}`);
      });
  }

  /** Runs a request in a slot, its failure told as {@link s3Failure}. */
  async #request<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await this.#slots.run(send);
    } catch (err) {
      throw s3Failure(err, this.#settings, action);
    }
  }
}

/** The bytes of a response body, in a buffer of their own. */
async function collect(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of body) {
    parts.push(part as Buffer);
    length += (part as Buffer).length;
  }
  const bytes = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const part of parts) at += part.copy(bytes, at);
  return bytes;
}
