import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Exporters whose module is imported in the background: the Azure Monitor and OTLP exporters cost
 * hundreds of milliseconds to load, and most processes (tests, local runs) configure neither.
 * Batches that arrive before the load finishes wait for it; a failed load fails the export.
 */
export class LazySpanExporter implements SpanExporter {
  readonly #exporter: Promise<SpanExporter>;

  constructor(load: () => Promise<SpanExporter>) {
    this.#exporter = load();
    this.#exporter.catch(() => {});
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#exporter.then(
      (e) => e.export(spans, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {
    await (await settled(this.#exporter))?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await (await settled(this.#exporter))?.forceFlush?.();
  }
}

export class LazyMetricExporter implements PushMetricExporter {
  readonly #exporter: Promise<PushMetricExporter>;
  readonly #temporality: (type: InstrumentType) => AggregationTemporality;

  /** `temporality` must match what the real exporter would select: the reader asks before the load completes. */
  constructor(load: () => Promise<PushMetricExporter>, temporality: (type: InstrumentType) => AggregationTemporality) {
    this.#exporter = load();
    this.#exporter.catch(() => {});
    this.#temporality = temporality;
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.#exporter.then(
      (e) => e.export(metrics, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return this.#temporality(type);
  }

  async forceFlush(): Promise<void> {
    await (await settled(this.#exporter))?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await (await settled(this.#exporter))?.shutdown();
  }
}

async function settled<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch(() => undefined);
}
