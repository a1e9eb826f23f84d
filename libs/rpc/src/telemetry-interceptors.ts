import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { codeName } from './error-interceptor.js';

/** Instrumentation scope of every span and instrument vitrine's RPC layer records. */
const SCOPE = '@vitrine/rpc';

/** Reads W3C trace context (traceparent, tracestate) from request headers. */
const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/** Writes W3C trace context into request headers. */
const headerSetter: TextMapSetter<Headers> = {
  set: (headers, key, value) => headers.set(key, value),
};

/** Codes a server counts as its own failure (OpenTelemetry RPC semantic conventions, gRPC). */
const SERVER_FAULTS = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

type Side = 'server' | 'client';

interface Instruments {
  readonly tracer: Tracer;
  readonly calls: Counter;
  readonly duration: Histogram;
}

/** Creates the per-side tracer, counter and histogram from the providers registered now. */
function instruments(side: Side): Instruments {
  const meter = metrics.getMeter(SCOPE);
  return {
    tracer: trace.getTracer(SCOPE),
    calls: meter.createCounter(`rpc.${side}.calls`, {
      description: `RPCs ${side === 'server' ? 'served' : 'made'}, by method and outcome`,
      unit: '{call}',
    }),
    duration: meter.createHistogram(`rpc.${side}.duration`, {
      description: `Duration of RPCs ${side === 'server' ? 'served' : 'made'}, by method and outcome`,
      unit: 'ms',
    }),
  };
}

/** Ends an RPC's span and records its metrics exactly once, whichever way it finishes. */
function finisher(side: Side, span: Span, tools: Instruments, base: Attributes) {
  const started = performance.now();
  let done = false;
  return (err?: unknown): void => {
    if (done) return;
    done = true;
    const code = err === undefined ? 0 : ConnectError.from(err).code;
    const outcome = codeName(code);
    const attributes = { ...base, 'rpc.grpc.status_code': code, 'rpc.outcome': outcome };
    span.setAttributes({ 'rpc.grpc.status_code': code });
    if (code !== 0 && (side === 'client' || SERVER_FAULTS.has(code))) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    }
    span.end();
    tools.calls.add(1, attributes);
    tools.duration.record(performance.now() - started, attributes);
  };
}

/** Passes a response stream through, in the RPC's context, finishing when it ends. */
async function* observeStream<T>(
  messages: AsyncIterable<T>,
  ctx: Context,
  finish: (err?: unknown) => void,
): AsyncGenerator<T> {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await context.with(ctx, () => it.next());
      if (next.done === true) break;
      yield next.value;
    }
    finish();
  } catch (err) {
    finish(err);
    throw err;
  } finally {
    finish(new ConnectError('stream abandoned', Code.Canceled));
    await it.return?.();
  }
}

/** One call being observed: the context its work runs in, and what ends its span and metrics. */
export interface ObservedCall {
  readonly context: Context;
  readonly finish: (err?: unknown) => void;
}

/** Starts the span of one call (continuing the caller's trace on the server side). */
function beginCall(
  side: Side,
  tools: Instruments,
  call: { readonly service: string; readonly method: string; readonly header: Headers },
): ObservedCall {
  const base = { 'rpc.system': 'grpc', 'rpc.service': call.service, 'rpc.method': call.method };
  const parent =
    side === 'server'
      ? propagation.extract(context.active(), call.header, headerGetter)
      : context.active();
  const kind = side === 'server' ? SpanKind.SERVER : SpanKind.CLIENT;
  const span = tools.tracer.startSpan(
    `${call.service}/${call.method}`,
    { kind, attributes: base },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  if (side === 'client') propagation.inject(ctx, call.header, headerSetter);
  return { context: ctx, finish: finisher(side, span, tools, base) };
}

/** Wraps one call in a span, propagation and metrics, for either side. */
function observe(side: Side): Interceptor {
  const tools = instruments(side);
  return (next) => async (req: UnaryRequest | StreamRequest) => {
    const { context: ctx, finish } = beginCall(side, tools, {
      service: req.service.typeName,
      method: req.method.name,
      header: req.header,
    });
    try {
      const res = await context.with(ctx, () => next(req));
      if (!res.stream) {
        finish();
        return res;
      }
      const observed: StreamResponse = { ...res, message: observeStream(res.message, ctx, finish) };
      return observed;
    } catch (err) {
      finish(err);
      throw err;
    }
  };
}

/**
 * The server telemetry of calls served outside Connect's interceptors (a response stream
 * written to HTTP/2 directly): the same span, trace continuation and metrics as
 * `serverTelemetryInterceptor`, started per call.
 */
export function serverCallTelemetry(): (call: {
  readonly service: string;
  readonly method: string;
  readonly header: Headers;
}) => ObservedCall {
  const tools = instruments('server');
  return (call) => beginCall('server', tools, call);
}

/**
 * Server side of RPC telemetry: continues the caller's trace from its `traceparent`
 * header, opens a SERVER span `service/method` with rpc.* attributes and the final
 * status code, and counts calls and their duration by method and outcome. Create it
 * after `startTelemetry` so its instruments bind to the configured SDK.
 */
export function serverTelemetryInterceptor(): Interceptor {
  return observe('server');
}

/**
 * Client side of RPC telemetry: a CLIENT span per call whose context is sent in the
 * `traceparent` header, so one trace follows a request across services, plus the same
 * counter and histogram as the server side.
 */
export function clientTelemetryInterceptor(): Interceptor {
  return observe('client');
}
