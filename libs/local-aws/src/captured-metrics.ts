import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '@alma-cache/aws-adapters';

/** One EMF document as Powertools serialises it (the line Lambda would log). */
export type EmfDocument = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
};

/**
 * A Metrics whose published documents are kept in `documents` instead of printed: the unit tests read them, and the
 * fault suite's thousands of invocations stay quiet. Serialisation is Powertools' own, so what is kept is exactly
 * what the function would log.
 *
 * @example
 * const metrics = new CapturedMetrics('alma-cache-sns'); // bind it where the composition root binds its Metrics
 */
export class CapturedMetrics extends Metrics {
  public readonly documents: EmfDocument[] = [];

  public constructor(
    private readonly service: string,
    options: { singleMetric?: boolean; documents?: EmfDocument[] } = {},
  ) {
    super({ namespace: METRICS_NAMESPACE, serviceName: service, singleMetric: options.singleMetric ?? false });
    if (options.documents) this.documents = options.documents;
  }

  /** Like Powertools' (each metric published at once, default dimensions only), kept in the same `documents`. */
  public override singleMetric(): Metrics {
    return new CapturedMetrics(this.service, { singleMetric: true, documents: this.documents });
  }

  public override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) this.documents.push(this.serializeMetrics() as unknown as EmfDocument);
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }

  /** Each published data point as `{ metric, value, dimensions }`, dimensions without the `service` default. */
  public points(): { metric: string; value: unknown; dimensions: Record<string, unknown> }[] {
    return this.documents.flatMap((document) =>
      document._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Metrics.map(({ Name }) => ({
          metric: Name,
          value: document[Name],
          dimensions: Object.fromEntries(
            directive.Dimensions.flat()
              .filter((name) => name !== 'service')
              .map((name) => [name, document[name]]),
          ),
        })),
      ),
    );
  }
}
