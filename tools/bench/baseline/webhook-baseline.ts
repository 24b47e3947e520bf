// The cold-start floor of the webhook receiver: a bare handler that builds what the receiver builds at module scope
// (SSM for the webhook secret, SNS for the event topics, the Powertools logger and metrics), and nothing else.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

const ssm = new SSMClient({});
const sns = new SNSClient({});
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-webhooks';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: 'AlmaCache', serviceName });

/** Touches what was built so the bundler keeps it. */
export const handler = async (): Promise<string[]> => [typeof ssm.send, typeof sns.send, typeof logger.info, typeof metrics.addMetric];
