import {
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, SourceCodeInfoSchema } from '@bufbuild/protobuf/wkt';
import { sourceInfo as generatedSourceInfo } from '@vitrine/proto/source-info';

/**
 * The protobuf schema a server can describe about itself: every file it was given and
 * every file those import (well-known types included), looked up by file name, by
 * fully-qualified symbol, or by extension. Server reflection answers from it, so tools
 * like `buf curl` and `grpcurl` can call a server without a local copy of its protos.
 *
 * The descriptors protoc-gen-es embeds in generated code carry no source info, so the
 * index adds each file's SourceCodeInfo (its comments and spans) from `sourceInfo`, which
 * `buf generate` writes beside the generated code (libs/proto/plugin): tools that show a
 * schema's documentation then show the protos' comments.
 */
export class DescriptorIndex {
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  readonly #extensions = new Map<string, DescExtension[]>();
  readonly #encoded = new Map<DescFile, Uint8Array>();
  readonly #sourceInfo: Readonly<Record<string, string>>;

  /**
   * Indexes the given files and, transitively, everything they import. `sourceInfo` maps a
   * file name to its binary SourceCodeInfo in base64; by default the one generated from
   * proto/.
   */
  constructor(
    files: Iterable<DescFile>,
    sourceInfo: Readonly<Record<string, string>> = generatedSourceInfo,
  ) {
    this.#sourceInfo = sourceInfo;
    for (const file of files) this.#addFile(file);
  }

  /** The serialized FileDescriptorProto of a file and of its transitive imports; undefined if unknown. */
  fileByName(name: string): Uint8Array[] | undefined {
    const file = this.#files.get(name);
    return file === undefined ? undefined : this.#withDependencies(file);
  }

  /**
   * The file declaring a fully-qualified symbol (service, method, message, enum or
   * extension, nested ones included), with its transitive imports.
   */
  fileContainingSymbol(symbol: string): Uint8Array[] | undefined {
    const file = this.#symbols.get(symbol.replace(/^\./, ''));
    return file === undefined ? undefined : this.#withDependencies(file);
  }

  /** The file declaring extension `number` of message `extendee`, with its imports. */
  fileContainingExtension(extendee: string, number: number): Uint8Array[] | undefined {
    const ext = this.#extensions.get(extendee)?.find((e) => e.number === number);
    return ext === undefined ? undefined : this.#withDependencies(ext.file);
  }

  /** The extension numbers known for a message; undefined if the message is unknown. */
  extensionNumbers(typeName: string): number[] | undefined {
    const file = this.#symbols.get(typeName);
    if (file === undefined) return undefined;
    return (this.#extensions.get(typeName) ?? []).map((e) => e.number).sort((a, b) => a - b);
  }

  #addFile(file: DescFile): void {
    const name = file.proto.name;
    if (this.#files.has(name)) return;
    this.#files.set(name, file);
    for (const dependency of file.dependencies) this.#addFile(dependency);
    for (const service of file.services) {
      this.#symbols.set(service.typeName, file);
      for (const method of service.methods) {
        this.#symbols.set(`${service.typeName}.${method.name}`, file);
      }
    }
    for (const message of file.messages) this.#addMessage(message);
    for (const desc of file.enums) this.#addEnum(desc);
    for (const ext of file.extensions) this.#addExtension(ext);
  }

  #addMessage(message: DescMessage): void {
    this.#symbols.set(message.typeName, message.file);
    for (const nested of message.nestedMessages) this.#addMessage(nested);
    for (const nested of message.nestedEnums) this.#addEnum(nested);
    for (const ext of message.nestedExtensions) this.#addExtension(ext);
  }

  #addEnum(desc: DescEnum): void {
    this.#symbols.set(desc.typeName, desc.file);
  }

  #addExtension(ext: DescExtension): void {
    this.#symbols.set(ext.typeName, ext.file);
    const list = this.#extensions.get(ext.extendee.typeName) ?? [];
    list.push(ext);
    this.#extensions.set(ext.extendee.typeName, list);
  }

  /** A file first, then each of its transitive imports once (gRPC reflection, "file_descriptor_proto"). */
  #withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const order: DescFile[] = [];
    const visit = (f: DescFile): void => {
      if (seen.has(f)) return;
      seen.add(f);
      order.push(f);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return order.map((f) => this.#encode(f));
  }

  /** A file's FileDescriptorProto, encoded once, with its source info when there is one. */
  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file);
    if (bytes === undefined) {
      const info = Object.hasOwn(this.#sourceInfo, file.proto.name)
        ? this.#sourceInfo[file.proto.name]
        : undefined;
      const proto =
        info === undefined || file.proto.sourceCodeInfo !== undefined
          ? file.proto
          : {
              ...file.proto,
              sourceCodeInfo: fromBinary(SourceCodeInfoSchema, Buffer.from(info, 'base64')),
            };
      bytes = toBinary(FileDescriptorProtoSchema, proto);
      this.#encoded.set(file, bytes);
    }
    return bytes;
  }
}
