// The cold-start floor of the change-notification function: a bare handler that builds what it builds at module
// scope (SNS for the change topic, the Powertools logger and metrics), and nothing else.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SNSClient } from '@aws-sdk/client-sns';

const sns = new SNSClient({});
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-changes';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: 'AlmaCache', serviceName });

/** Touches what was built so the bundler keeps it. */
export const handler = async (): Promise<string[]> => [typeof sns.send, typeof logger.info, typeof metrics.addMetric];
