/**
 * Telemetry of a server stream served directly: the span, trace continuation and metrics
 * `serverTelemetryInterceptor` gives calls that go through Connect, started per call from
 * the request's headers and finished with the call's outcome.
 */
import type { DescMethodServerStreaming } from '@bufbuild/protobuf';
import { context } from '@opentelemetry/api';
import { serverCallTelemetry } from '../telemetry-interceptors.js';

/** Runs `serve` inside the call's span; the span ends with the error it resolves with, if any. */
export type ObserveCall = (
  method: DescMethodServerStreaming,
  header: Headers,
  serve: () => Promise<unknown>,
) => void;

/** An observer of calls, bound to the telemetry providers registered now. */
export function callTelemetry(): ObserveCall {
  const telemetry = serverCallTelemetry();
  return (method, header, serve) => {
    const call = telemetry({ service: method.parent.typeName, method: method.name, header });
    void context.with(call.context, () => serve().then(call.finish));
  };
}
