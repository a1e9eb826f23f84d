import { type Meter, type MeterProvider, metrics } from '@opentelemetry/api';

/**
 * Bumped whenever `startTelemetry` registers a meter provider. The OpenTelemetry API has
 * no proxy for meters: a meter taken before the SDK starts stays a no-op for good, so
 * every vitrine instrument is made through `lazyInstruments` and remade once a provider
 * is registered.
 */
let generation = 0;

/** Called by `startTelemetry` once its SDK runs, so instruments bind to its provider. */
export function metersChanged(): void {
  generation += 1;
}

/**
 * Makes `provider` the global meter provider in place of any registered before (the API
 * refuses a second registration otherwise), and has every instrument remade from it; with
 * none, metrics are off again. For a process that collects metrics without `startTelemetry`,
 * such as a test reading its own.
 */
export function useMeterProvider(provider: MeterProvider | undefined): void {
  metrics.disable();
  if (provider) metrics.setGlobalMeterProvider(provider);
  metersChanged();
}

/**
 * Instruments of one meter (`scope`), made on first use from the provider registered at
 * that time and remade when telemetry starts later — so a module may declare its counters
 * at top level and they are still exported once an exporter is configured.
 */
export function lazyInstruments<T extends object>(
  scope: string,
  create: (meter: Meter) => T,
): () => T {
  let made: T | undefined;
  let madeAt = -1;
  return () => {
    if (made === undefined || madeAt !== generation) {
      made = create(metrics.getMeter(scope));
      madeAt = generation;
    }
    return made;
  };
}
