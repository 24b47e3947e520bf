// The cold-start baseline for the webhook receiver: a bare handler that builds the SDK clients the receiver builds
// (SSM for the webhook secret, SNS for the event topics) at module scope, and nothing else.
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

const ssm = new SSMClient({});
const sns = new SNSClient({});

/** Touches the clients so the bundler keeps them. */
export const handler = async (): Promise<string[]> => [typeof ssm.send, typeof sns.send];
