/**
 * The CloudWatch namespace every service's metrics go to, so that one dashboard or alarm query sees them all;
 * the `service` dimension tells the stacks apart.
 */
export const METRICS_NAMESPACE = 'AlmaCache';
