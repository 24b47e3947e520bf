import { type CacheTableNames } from '@alma-cache/aws-adapters';
import { createCacheTables } from '@alma-cache/aws-adapters/testing';
import { startDynamoDbLocal } from '@alma-cache/local-aws';

/** DynamoDB Local and fresh cache tables for one bench run; `env` is what a child process needs to reach them. */
export interface BenchEnvironment {
  readonly tables: Required<CacheTableNames>;
  readonly env: Record<string, string>;
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local only: every figure talks to DynamoDB, none to SQS or SSM (the unknown-patron path counts
 * its refresh messages in memory, the refresh reads no key), so moto would only take CPU from the measurements.
 */
export const startBenchEnvironment = async (log: (line: string) => void): Promise<BenchEnvironment> => {
  const dynamodb = await startDynamoDbLocal({ log });
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // The adapters' clients and createCacheTables read the SDK's own variables.
  Object.assign(process.env, env);
  try {
    const tables = await createCacheTables();
    return { tables, env, description: `DynamoDB Local ${dynamodb.version} on ${dynamodb.endpoint}`, stop: () => dynamodb.stop() };
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
};
