import type { Meter, Tracer } from '@opentelemetry/api';
import { ConfigError } from '../errors.ts';
import type { JournalWrite } from '../store/store.ts';
import type { JournalMetrics, PoolSource } from './journal-metrics.ts';
import type { JournalSpans } from './journal-spans.ts';

/**
 * Where @opentelemetry/api (major version 1) keeps what an application registered: when nothing
 * is there and no OTLP export is asked for, Baton loads no OpenTelemetry code at all.
 */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/**
 * Where Baton's OpenTelemetry goes (`Baton.open({ telemetry })`, baton.config.ts `telemetry`).
 * Without any of it, Baton uses the global tracer and meter when the application registered an
 * OpenTelemetry SDK; else, when OTEL_EXPORTER_OTLP_ENDPOINT (or `otlp.endpoint`) is set, it
 * exports over OTLP/HTTP itself; else it is silent and loads nothing.
 */
export interface TelemetryOptions {
  /** Spans go to this tracer. */
  tracer?: Tracer;
  /** Metrics go to this meter. */
  meter?: Meter;
  /** Export over OTLP/HTTP (`http://collector:4318`; the signal paths are added). Default: OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlp?: { endpoint?: string; headers?: Record<string, string>; metricIntervalMs?: number };
  /** `service.name` on what Baton exports itself. Default: OTEL_SERVICE_NAME, else `baton`. */
  serviceName?: string;
}

/** One Baton's telemetry: spans and metrics from committed journal events, and what it must flush on close. */
export class BatonTelemetry {
  readonly spans: JournalSpans | undefined;
  readonly metrics: JournalMetrics | undefined;
  readonly #shutdown: (() => Promise<void>)[];

  constructor(parts: { spans?: JournalSpans; metrics?: JournalMetrics; shutdown?: (() => Promise<void>)[] }) {
    this.spans = parts.spans;
    this.metrics = parts.metrics;
    this.#shutdown = parts.shutdown ?? [];
  }

  /** The committer's hook: writes that are now durable. Never throws. */
  record(writes: readonly JournalWrite[]): void {
    try {
      this.spans?.record(writes);
      this.metrics?.record(writes);
    } catch {
      // Telemetry never fails a run.
    }
  }

  /** An activation of a run starts in this process. */
  activate(runId: string, workflow: string, at: number): void {
    try {
      this.spans?.activate(runId, workflow, at);
    } catch {
      // Telemetry never fails a run.
    }
  }

  /** Ends open spans and flushes what Baton exports itself. */
  async close(): Promise<void> {
    this.spans?.close();
    this.metrics?.close();
    await Promise.allSettled(this.#shutdown.map((shutdown) => shutdown()));
  }
}

/**
 * Sets up telemetry as {@link TelemetryOptions} says; undefined when there is nowhere to send it.
 * The OTLP exporters are loaded only when they are used.
 *
 * @throws ConfigError when OTLP export is asked for and its packages cannot be loaded.
 */
export async function openTelemetry(
  options: TelemetryOptions | false | undefined,
  env: Readonly<Record<string, string | undefined>>,
  pools?: PoolSource,
): Promise<BatonTelemetry | undefined> {
  if (options === false || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const endpoint = options?.otlp?.endpoint;
  const fromEnv =
    env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  const registered = (globalThis as Record<symbol, unknown>)[OTEL_API_GLOBAL] !== undefined;
  if (!options?.tracer && !options?.meter && endpoint === undefined && !fromEnv && !registered)
    return undefined;
  const api = await import('@opentelemetry/api');
  let tracer = options?.tracer ?? globalTracer(api);
  let meter = options?.meter ?? globalMeter(api);
  const shutdown: (() => Promise<void>)[] = [];
  if ((endpoint !== undefined || fromEnv) && (!tracer || !meter)) {
    const exported = await otlp(options ?? {}, env, {
      traces: !tracer,
      metrics:
        !meter &&
        (endpoint !== undefined ||
          env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
          env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT !== undefined),
    });
    tracer ??= exported.tracer;
    meter ??= exported.meter;
    shutdown.push(...exported.shutdown);
  }
  if (!tracer && !meter) return undefined;
  const { JournalSpans } = await import('./journal-spans.ts');
  const { JournalMetrics } = await import('./journal-metrics.ts');
  return new BatonTelemetry({
    ...(tracer ? { spans: new JournalSpans(tracer) } : {}),
    ...(meter ? { metrics: new JournalMetrics(meter, pools) } : {}),
    shutdown,
  });
}

type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The global tracer, when the application registered a tracer provider. */
function globalTracer({ trace, ProxyTracerProvider }: OpenTelemetryApi): Tracer | undefined {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate === new ProxyTracerProvider().getDelegate() ? undefined : trace.getTracer('baton');
}

/** The global meter, when the application registered a meter provider. */
function globalMeter({ metrics, createNoopMeter }: OpenTelemetryApi): Meter | undefined {
  const meter = metrics.getMeter('baton');
  return meter instanceof createNoopMeter().constructor ? undefined : meter;
}

async function otlp(
  options: TelemetryOptions,
  env: Readonly<Record<string, string | undefined>>,
  wanted: { traces: boolean; metrics: boolean },
): Promise<{ tracer?: Tracer; meter?: Meter; shutdown: (() => Promise<void>)[] }> {
  const load = async <T>(name: string): Promise<T> => {
    try {
      return (await import(name)) as T;
    } catch (error) {
      throw new ConfigError(
        `OpenTelemetry export over OTLP needs the package ${name}; install it (npm install ${name}).`,
        { cause: error },
      );
    }
  };
  const { resourceFromAttributes } =
    await load<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
  const resource = resourceFromAttributes({
    'service.name': options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'baton',
  });
  const url = (path: string): { url?: string } =>
    options.otlp?.endpoint === undefined
      ? {}
      : { url: `${options.otlp.endpoint.replace(/\/+$/, '')}${path}` };
  const headers = options.otlp?.headers ? { headers: options.otlp.headers } : {};
  const out: { tracer?: Tracer; meter?: Meter; shutdown: (() => Promise<void>)[] } = { shutdown: [] };
  if (wanted.traces) {
    const { BasicTracerProvider, BatchSpanProcessor } = await load<
      typeof import('@opentelemetry/sdk-trace-base')
    >('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = await load<typeof import('@opentelemetry/exporter-trace-otlp-http')>(
      '@opentelemetry/exporter-trace-otlp-http',
    );
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ ...url('/v1/traces'), ...headers }))],
    });
    out.tracer = provider.getTracer('baton');
    out.shutdown.push(() => provider.shutdown());
  }
  if (wanted.metrics) {
    const { MeterProvider, PeriodicExportingMetricReader } = await load<
      typeof import('@opentelemetry/sdk-metrics')
    >('@opentelemetry/sdk-metrics');
    const { OTLPMetricExporter } = await load<typeof import('@opentelemetry/exporter-metrics-otlp-http')>(
      '@opentelemetry/exporter-metrics-otlp-http',
    );
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ ...url('/v1/metrics'), ...headers }),
      exportIntervalMillis: options.otlp?.metricIntervalMs ?? 60_000,
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    out.meter = provider.getMeter('baton');
    out.shutdown.push(() => provider.shutdown());
  }
  return out;
}
