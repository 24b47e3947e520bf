import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sleep, type LogLine } from './server-process';

/** Logical id -> physical name, as CloudFormation would have created them. */
export interface ProvisionedResources {
  /** Logical id -> table name. */
  tables: Record<string, string>;
  /** Logical id -> queue URL. */
  queues: Record<string, string>;
}

type Properties = Record<string, unknown>;
interface Resource {
  Type?: unknown;
  Properties?: unknown;
}

// CloudFormation queue properties that map 1:1 onto SQS attributes. KMS/SSE ones are left out on
// purpose: emulators ignore them and they are usually Refs to keys that do not exist locally.
const PLAIN_QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

const TABLE_ACTIVE_TIMEOUT_MS = 30_000;

/**
 * Creates the DynamoDB tables and SQS queues of a CloudFormation template (the JSON `serverless package`
 * writes) against the emulator endpoints in `env`, so tests and the local run get the same names,
 * keys, TTL and redrive settings as a deployment.
 *
 * Handles `AWS::DynamoDB::Table` (keys, billing, indexes, stream, TTL) and `AWS::SQS::Queue` (plain
 * attributes and a RedrivePolicy whose dead-letter target may be `Fn::GetAtt [Queue, Arn]`); every
 * other resource type is ignored. Idempotent: a table or queue that already exists is left as it is.
 * Throws, naming resource and field, on an intrinsic function in a field it needs, and refuses to run
 * without an endpoint in `env` so it can never touch a real account.
 */
export async function provisionFromTemplate(
  template: unknown,
  env: Record<string, string>,
  opts: { log?: LogLine } = {},
): Promise<ProvisionedResources> {
  const log = opts.log ?? (() => undefined);
  const resources = resourcesOf(template);
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'];
  if (!region) throw new Error('provisionFromTemplate: env has neither AWS_REGION nor AWS_DEFAULT_REGION.');
  const common = {
    region,
    credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID'] || 'test', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] || 'test' },
  };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpointFor(env, 'DYNAMODB') });
  // The emulators' queue URLs carry their own host names; the endpoint we were given is the one that works.
  const sqs = new SQSClient({ ...common, endpoint: endpointFor(env, 'SQS'), useQueueUrlAsEndpoint: false });

  try {
    const tables: Record<string, string> = {};
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type === 'AWS::DynamoDB::Table')
        tables[logicalId] = await ensureTable(dynamodb, logicalId, propertiesOf(logicalId, resource), log);
    }

    const queues = new QueueProvisioner(sqs, resources, log);
    const queueUrls: Record<string, string> = {};
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type === 'AWS::SQS::Queue') queueUrls[logicalId] = (await queues.ensure(logicalId, [])).url;
    }
    return { tables, queues: queueUrls };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
  }
}

function resourcesOf(template: unknown): Record<string, Resource> {
  const resources = isRecord(template) ? template['Resources'] : undefined;
  if (!isRecord(resources)) throw new Error('provisionFromTemplate: the template has no "Resources" object.');
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isRecord(resource)) throw new Error(`provisionFromTemplate: resource ${logicalId} is not an object.`);
  }
  return resources as Record<string, Resource>;
}

function propertiesOf(logicalId: string, resource: Resource): Properties {
  if (resource.Properties === undefined) return {};
  if (!isRecord(resource.Properties)) throw new Error(`provisionFromTemplate: ${logicalId}.Properties is not an object.`);
  return resource.Properties;
}

function endpointFor(env: Record<string, string>, service: 'DYNAMODB' | 'SQS'): string {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] || env['AWS_ENDPOINT_URL'];
  if (!endpoint) {
    throw new Error(`provisionFromTemplate: env has no AWS_ENDPOINT_URL_${service} or AWS_ENDPOINT_URL; refusing to provision against real AWS.`);
  }
  return endpoint;
}

async function ensureTable(client: DynamoDBClient, logicalId: string, props: Properties, log: LogLine): Promise<string> {
  const field = (name: string) => literal(props[name], logicalId, name);
  const tableName = props['TableName'] === undefined ? logicalId : requireString(field('TableName'), logicalId, 'TableName');
  const throughput = field('ProvisionedThroughput');
  const stream = field('StreamSpecification');
  const input: CreateTableCommandInput = {
    TableName: tableName,
    KeySchema: requireArray(field('KeySchema'), logicalId, 'KeySchema') as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: requireArray(
      field('AttributeDefinitions'),
      logicalId,
      'AttributeDefinitions',
    ) as CreateTableCommandInput['AttributeDefinitions'],
    // CloudFormation defaults to PROVISIONED, which needs throughput; a template without either is treated as on-demand.
    BillingMode: (field('BillingMode') as CreateTableCommandInput['BillingMode']) ?? (throughput === undefined ? 'PAY_PER_REQUEST' : 'PROVISIONED'),
    ProvisionedThroughput: toThroughput(throughput),
    GlobalSecondaryIndexes: indexes(
      field('GlobalSecondaryIndexes'),
      logicalId,
      'GlobalSecondaryIndexes',
      true,
    ) as CreateTableCommandInput['GlobalSecondaryIndexes'],
    LocalSecondaryIndexes: indexes(
      field('LocalSecondaryIndexes'),
      logicalId,
      'LocalSecondaryIndexes',
      false,
    ) as CreateTableCommandInput['LocalSecondaryIndexes'],
    StreamSpecification:
      isRecord(stream) && typeof stream['StreamViewType'] === 'string'
        ? { StreamEnabled: true, StreamViewType: stream['StreamViewType'] as StreamViewType }
        : undefined,
  };

  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
    log(`table ${tableName} (${logicalId}) already exists; left as it is`);
    return tableName;
  }
  log(`created table ${tableName} (${logicalId})`);

  const ttl = field('TimeToLiveSpecification');
  if (isRecord(ttl) && (ttl['Enabled'] === true || ttl['Enabled'] === 'true')) {
    const attributeName = requireString(ttl['AttributeName'], logicalId, 'TimeToLiveSpecification.AttributeName');
    try {
      await waitUntilActive(client, tableName);
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName } }),
      );
      log(`TTL on ${tableName}.${attributeName} enabled`);
    } catch (error) {
      // Some emulators lack TTL; tests that need expiry will say so, everything else should still run.
      log(`TTL on ${tableName}.${attributeName} not applied: ${errorName(error)}: ${(error as Error).message}`);
    }
  }
  return tableName;
}

/** Emulators create tables ACTIVE at once, but a table still CREATING rejects UpdateTimeToLive. */
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

function toThroughput(value: unknown): CreateTableCommandInput['ProvisionedThroughput'] {
  if (!isRecord(value)) return undefined;
  // CloudFormation JSON may carry the numbers as strings; the SDK wants numbers.
  return { ReadCapacityUnits: Number(value['ReadCapacityUnits']), WriteCapacityUnits: Number(value['WriteCapacityUnits']) };
}

function indexes(value: unknown, logicalId: string, fieldName: string, withThroughput: boolean): Record<string, unknown>[] | undefined {
  if (value === undefined) return undefined;
  // Only the keys CreateTable knows: CloudFormation allows others (ContributorInsightsSpecification, …) that the SDK would reject.
  return requireArray(value, logicalId, fieldName).map((index) => {
    if (!isRecord(index)) throw new Error(`provisionFromTemplate: ${logicalId}.${fieldName} has an entry that is not an object.`);
    return {
      IndexName: index['IndexName'],
      KeySchema: index['KeySchema'],
      Projection: index['Projection'],
      ...(withThroughput && index['ProvisionedThroughput'] !== undefined
        ? { ProvisionedThroughput: toThroughput(index['ProvisionedThroughput']) }
        : {}),
    };
  });
}

/** Creates queues on demand so a dead-letter queue always exists before the queue that redrives into it. */
class QueueProvisioner {
  private readonly done = new Map<string, Promise<{ url: string; arn: string }>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly resources: Record<string, Resource>,
    private readonly log: LogLine,
  ) {}

  ensure(logicalId: string, chain: readonly string[]): Promise<{ url: string; arn: string }> {
    if (chain.includes(logicalId)) throw new Error(`provisionFromTemplate: queues redrive in a cycle: ${[...chain, logicalId].join(' -> ')}.`);
    let result = this.done.get(logicalId);
    if (result === undefined) {
      result = this.create(logicalId, [...chain, logicalId]);
      this.done.set(logicalId, result);
    }
    return result;
  }

  private async create(logicalId: string, chain: readonly string[]): Promise<{ url: string; arn: string }> {
    const props = propertiesOf(logicalId, this.resources[logicalId] ?? {});
    const field = (name: string) => literal(props[name], logicalId, name);
    const fifo = String(field('FifoQueue')) === 'true';
    // Without a QueueName CloudFormation invents one; the logical id is a stable local stand-in.
    const queueName =
      props['QueueName'] === undefined ? `${logicalId}${fifo ? '.fifo' : ''}` : requireString(field('QueueName'), logicalId, 'QueueName');

    const attributes: Record<string, string> = {};
    for (const name of PLAIN_QUEUE_ATTRIBUTES) {
      const value = field(name);
      if (value !== undefined) attributes[name] = String(value);
    }
    if (props['RedrivePolicy'] !== undefined)
      attributes['RedrivePolicy'] = JSON.stringify(await this.redrivePolicy(logicalId, props['RedrivePolicy'], chain));

    const existing = await this.queueUrl(queueName);
    let url: string;
    if (existing !== undefined) {
      url = existing;
      this.log(`queue ${queueName} (${logicalId}) already exists; left as it is`);
    } else {
      const created = await this.sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
      url = requireString(created.QueueUrl, logicalId, 'QueueUrl (CreateQueue response)');
      this.log(`created queue ${queueName} (${logicalId})`);
    }
    const described = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: requireString(described.Attributes?.['QueueArn'], logicalId, 'QueueArn (GetQueueAttributes response)') };
  }

  private async redrivePolicy(logicalId: string, raw: unknown, chain: readonly string[]): Promise<Record<string, unknown>> {
    // CloudFormation accepts the policy as an object or as a JSON string.
    const policy = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    if (!isRecord(policy)) throw new Error(`provisionFromTemplate: ${logicalId}.RedrivePolicy is not an object.`);
    const target = policy['deadLetterTargetArn'];
    let deadLetterTargetArn: string;
    if (typeof target === 'string') {
      deadLetterTargetArn = target;
    } else {
      const dlq = getAttArnTarget(target);
      if (dlq === undefined || this.resources[dlq]?.Type !== 'AWS::SQS::Queue') {
        throw new Error(
          `provisionFromTemplate: ${logicalId}.RedrivePolicy.deadLetterTargetArn must be a string or {"Fn::GetAtt": [<queue in this template>, "Arn"]}, got ${JSON.stringify(target)}.`,
        );
      }
      deadLetterTargetArn = (await this.ensure(dlq, chain)).arn;
    }
    return {
      deadLetterTargetArn,
      maxReceiveCount: literal(policy['maxReceiveCount'], logicalId, 'RedrivePolicy.maxReceiveCount'),
    };
  }

  private async queueUrl(queueName: string): Promise<string | undefined> {
    try {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl;
    } catch (error) {
      const name = errorName(error);
      if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') return undefined;
      throw error;
    }
  }
}

/** The logical id in `{"Fn::GetAtt": ["Id", "Arn"]}` or `{"Fn::GetAtt": "Id.Arn"}`, else undefined. */
function getAttArnTarget(value: unknown): string | undefined {
  if (!isRecord(value) || Object.keys(value).length !== 1) return undefined;
  const args = value['Fn::GetAtt'];
  const [id, attribute] = typeof args === 'string' ? args.split('.') : Array.isArray(args) ? args : [];
  return typeof id === 'string' && attribute === 'Arn' ? id : undefined;
}

/** Returns `value` unchanged, after making sure no intrinsic function hides anywhere inside it. */
function literal(value: unknown, logicalId: string, fieldName: string): unknown {
  const intrinsic = findIntrinsic(value);
  if (intrinsic !== undefined) {
    throw new Error(
      `provisionFromTemplate: ${logicalId}.${fieldName} uses ${intrinsic}, which is not supported here; ` +
        'give it a literal value in the template (serverless package resolves ${self:…} variables).',
    );
  }
  return value;
}

function findIntrinsic(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.map(findIntrinsic).find((found) => found !== undefined);
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) return keys[0];
  return Object.values(value)
    .map(findIntrinsic)
    .find((found) => found !== undefined);
}

function requireString(value: unknown, logicalId: string, fieldName: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`provisionFromTemplate: ${logicalId}.${fieldName} must be a non-empty string.`);
  return value;
}

function requireArray(value: unknown, logicalId: string, fieldName: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`provisionFromTemplate: ${logicalId}.${fieldName} must be a list.`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorName(error: unknown): string {
  return isRecord(error) && typeof error['name'] === 'string' ? error['name'] : 'Error';
}
