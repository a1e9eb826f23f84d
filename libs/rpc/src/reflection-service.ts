import { create } from '@bufbuild/protobuf';
import { Code, type ConnectRouter } from '@connectrpc/connect';
import {
  ServerReflectionResponseSchema as ResponseV1,
  ServerReflection as ServerReflectionV1,
} from '@vitrine/proto/reflection-v1';
import {
  ServerReflectionResponseSchema as ResponseV1alpha,
  ServerReflection as ServerReflectionV1alpha,
} from '@vitrine/proto/reflection-v1alpha';
import type { DescriptorIndex } from './descriptor-index.js';

/** A reflection request as both protocol versions shape it (their messages are identical). */
type ReflectionRequest = {
  readonly host: string;
  readonly messageRequest:
    | {
        case:
          | 'fileByFilename'
          | 'fileContainingSymbol'
          | 'allExtensionNumbersOfType'
          | 'listServices';
        value: string;
      }
    | {
        case: 'fileContainingExtension';
        value: { containingType: string; extensionNumber: number };
      }
    | { case: undefined; value?: undefined };
};

/** The `message_response` oneof of a reflection response, shared by both versions. */
type ReflectionAnswer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'listServicesResponse'; value: { service: { name: string }[] } }
  | {
      case: 'allExtensionNumbersResponse';
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/** An ErrorResponse: the protocol reports failures in-band and keeps the stream open. */
function notFound(message: string): ReflectionAnswer {
  return { case: 'errorResponse', value: { errorCode: Code.NotFound, errorMessage: message } };
}

/** Wraps descriptor bytes as a FileDescriptorResponse, or NOT_FOUND when there are none. */
function files(bytes: Uint8Array[] | undefined, what: string): ReflectionAnswer {
  if (bytes === undefined) return notFound(`${what} not found`);
  return { case: 'fileDescriptorResponse', value: { fileDescriptorProto: bytes } };
}

/** Answers one request of the reflection stream (grpc/reflection/v1/reflection.proto). */
function answer(
  index: DescriptorIndex,
  services: string[],
  req: ReflectionRequest,
): ReflectionAnswer {
  const request = req.messageRequest;
  switch (request.case) {
    case 'listServices':
      return {
        case: 'listServicesResponse',
        value: { service: services.map((name) => ({ name })) },
      };
    case 'fileByFilename':
      return files(index.fileByName(request.value), `file "${request.value}"`);
    case 'fileContainingSymbol':
      return files(index.fileContainingSymbol(request.value), `symbol "${request.value}"`);
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = request.value;
      const found = index.fileContainingExtension(containingType, extensionNumber);
      return files(found, `extension ${extensionNumber} of "${containingType}"`);
    }
    case 'allExtensionNumbersOfType': {
      const numbers = index.extensionNumbers(request.value);
      if (numbers === undefined) return notFound(`type "${request.value}" not found`);
      return {
        case: 'allExtensionNumbersResponse',
        value: { baseTypeName: request.value, extensionNumber: numbers },
      };
    }
    case undefined:
      return {
        case: 'errorResponse',
        value: { errorCode: Code.InvalidArgument, errorMessage: 'empty request' },
      };
    default:
      throw new Error(
        `unhandled reflection request ${String((request as { case: unknown }).case)}`,
      );
  }
}

/**
 * Serves gRPC server reflection, v1 and the older v1alpha (same messages, different
 * package; grpcurl and buf curl try v1 first and fall back), from a DescriptorIndex.
 * `services` lists what the server hosts; it is read per request, so it may be filled
 * in after the routes are registered. Reveals schemas only, never data.
 */
export function registerReflectionService(
  router: ConnectRouter,
  index: DescriptorIndex,
  services: () => string[],
): void {
  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const messageResponse = answer(index, services(), req);
        yield create(ResponseV1, { validHost: req.host, originalRequest: req, messageResponse });
      }
    },
  });
  router.service(ServerReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const messageResponse = answer(index, services(), req);
        yield create(ResponseV1alpha, {
          validHost: req.host,
          originalRequest: req,
          messageResponse,
        });
      }
    },
  });
}
