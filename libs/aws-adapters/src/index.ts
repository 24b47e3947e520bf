export * from './lib/aws-clients';
export * from './lib/dynamodb-cache-store';
export * from './lib/sqs-user-refresh-queue';
export * from './lib/ssm-secret';
