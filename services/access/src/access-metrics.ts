import { type BatchObservableResult, metrics } from '@opentelemetry/api';
import type { CheckpointPublisher, LogStore } from '@vitrine/tlog-store';

/**
 * Registers the access service's log gauges, read when metrics are collected:
 * `vitrine.access.log_size` (decisions in the access log) and
 * `vitrine.access.checkpoint_size` (the size of the latest checkpoint signed of it).
 * Call it after telemetry starts; it returns a function that removes the callback.
 */
export function observeAccess(store: LogStore, checkpoints: CheckpointPublisher): () => void {
  const meter = metrics.getMeter('vitrine-access');
  const size = meter.createObservableGauge('vitrine.access.log_size', {
    description: 'decisions in the access service’s transparency log',
  });
  const checkpointSize = meter.createObservableGauge('vitrine.access.checkpoint_size', {
    description: 'size of the latest checkpoint signed of the access log',
  });
  const observe = async (result: BatchObservableResult) => {
    const [held, latest] = await Promise.all([store.size(), checkpoints.latest()]);
    result.observe(size, held);
    if (latest) result.observe(checkpointSize, latest.size);
  };
  const observables = [size, checkpointSize];
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
