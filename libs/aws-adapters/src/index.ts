export * from './lib/aws-clients';
export * from './lib/dynamodb-cache-store';
export * from './lib/sqs-user-refresh-queue';
export * from './lib/ssm-secret';
export * from './lib/sns-change-publisher';
export * from './lib/cache-stream-record';
export * from './lib/dynamodb-cache-reader';
export * from './lib/sns-webhook-publisher';
