import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type LocalAws, provisionFromTemplate, startLocalAws } from '../../src';

// One emulator pair for the whole file: starting one costs ~2 s, and every test here can share it.
let aws: LocalAws;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
const logged: string[] = [];

const clientConfig = () => ({
  region: aws.env['AWS_REGION'],
  credentials: { accessKeyId: aws.env['AWS_ACCESS_KEY_ID'], secretAccessKey: aws.env['AWS_SECRET_ACCESS_KEY'] },
});
const portOf = (endpoint: string) => Number(new URL(endpoint).port);

/** Whether 127.0.0.1:port can be bound right now, i.e. nothing listens there. */
const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });

/** Whether anything accepts a TCP connection at host:port. */
const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    const settle = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
    socket.once('timeout', () => settle(false));
  });

beforeAll(async () => {
  aws = await startLocalAws({ backend: 'local', log: (line) => logged.push(line) });
  dynamodb = new DynamoDBClient({ ...clientConfig(), endpoint: aws.env['AWS_ENDPOINT_URL_DYNAMODB'] });
  sqs = new SQSClient({ ...clientConfig(), endpoint: aws.env['AWS_ENDPOINT_URL'], useQueueUrlAsEndpoint: false });
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await aws?.stop();
});

describe('Function: startLocalAws', () => {
  it('describes the local backend and hands out SDK env for it', () => {
    // Assess
    expect(aws.backend).toBe('local');
    expect(aws.description).toMatch(/^local: DynamoDB Local \S+ on http:\/\/127\.0\.0\.1:\d+, moto 5\.\d+\.\d+ on http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.env).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: aws.endpoints.other,
      AWS_ENDPOINT_URL_DYNAMODB: aws.endpoints.dynamodb,
    });
    expect(logged).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DynamoDB Local .* ready in \d+\.\d s$/), expect.stringMatching(/^moto ready in/)]),
    );
  });

  it('starts a DynamoDB Local that creates tables', async () => {
    // Prepare
    const table = { TableName: 'smoke', BillingMode: 'PAY_PER_REQUEST' as const };

    // Act
    await dynamodb.send(
      new CreateTableCommand({
        ...table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );

    // Assess
    expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toContain('smoke');
  });

  it('starts a moto that sends and receives SQS messages', async () => {
    // Prepare
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'smoke' }));

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));

    // Assess
    expect(received.Messages?.map((message) => message.Body)).toEqual(['hello']);
  });

  it('listens on 127.0.0.1 only', async () => {
    // Prepare
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

    // Act
    const reachable =
      external === undefined ? [] : await Promise.all([aws.endpoints.dynamodb, aws.endpoints.other].map((e) => connects(external, portOf(e))));

    // Assess
    expect(reachable).not.toContain(true);
    expect(await connects('127.0.0.1', portOf(aws.endpoints.dynamodb))).toBe(true);
  });
});

describe('Function: provisionFromTemplate', () => {
  // Shaped like `serverless package` output; the DLQ comes after the queue that needs its ARN on purpose.
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      UsersTable: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'it-users',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'primary_id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'primary_id', KeyType: 'HASH' }],
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        },
      },
      LoansTable: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'it-loans',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'primary_id', AttributeType: 'S' },
            { AttributeName: 'loan_id', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'primary_id', KeyType: 'HASH' },
            { AttributeName: 'loan_id', KeyType: 'RANGE' },
          ],
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          Tags: [{ Key: 'stack', Value: { Ref: 'AWS::StackName' } }],
        },
      },
      RefreshQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: 'it-refresh',
          VisibilityTimeout: 60,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['RefreshDlq', 'Arn'] }, maxReceiveCount: 3 },
        },
      },
      RefreshDlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'it-refresh-dlq', MessageRetentionPeriod: 1209600 } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::Sub': '${AWS::StackName}-topic' } } },
    },
  };

  it('creates the tables and queues with keys, TTL and redrive', async () => {
    // Act
    const provisioned = await provisionFromTemplate(template, aws.env);

    // Assess
    expect(provisioned.tables).toEqual({ UsersTable: 'it-users', LoansTable: 'it-loans' });
    expect(Object.keys(provisioned.queues).sort()).toEqual(['RefreshDlq', 'RefreshQueue']);
    const loans = (await dynamodb.send(new DescribeTableCommand({ TableName: 'it-loans' }))).Table;
    expect(loans?.KeySchema).toEqual([
      { AttributeName: 'primary_id', KeyType: 'HASH' },
      { AttributeName: 'loan_id', KeyType: 'RANGE' },
    ]);
    expect(loans?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const users = (await dynamodb.send(new DescribeTableCommand({ TableName: 'it-users' }))).Table;
    expect(users?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: 'it-loans' }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
    const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: provisioned.queues['RefreshDlq'], AttributeNames: ['All'] }));
    const queue = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: provisioned.queues['RefreshQueue'], AttributeNames: ['All'] }));
    const redrive = JSON.parse(queue.Attributes?.['RedrivePolicy'] ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    expect(Number(redrive.maxReceiveCount)).toBe(3);
    expect(redrive.deadLetterTargetArn).toBe(dlq.Attributes?.['QueueArn']);
    expect(dlq.Attributes?.['QueueArn']).toBe('arn:aws:sqs:eu-west-1:000000000000:it-refresh-dlq');
    expect(queue.Attributes?.['VisibilityTimeout']).toBe('60');
    expect(dlq.Attributes?.['MessageRetentionPeriod']).toBe('1209600');
  });

  it('leaves existing tables and queues as they are', async () => {
    // Prepare
    const first = await provisionFromTemplate(template, aws.env);
    const lines: string[] = [];

    // Act
    const second = await provisionFromTemplate(template, aws.env, { log: (line) => lines.push(line) });

    // Assess
    expect(second).toEqual(first);
    expect(lines.filter((line) => line.includes('already exists'))).toHaveLength(4);
  });

  it('names the resource and field of an unsupported intrinsic function', async () => {
    // Prepare
    const withSub = {
      Resources: {
        BadTable: {
          Type: 'AWS::DynamoDB::Table',
          Properties: { ...template.Resources.UsersTable.Properties, TableName: { 'Fn::Sub': '${AWS::StackName}-users' } },
        },
      },
    };

    // Act
    const provisioning = provisionFromTemplate(withSub, aws.env);

    // Assess
    await expect(provisioning).rejects.toThrow('provisionFromTemplate: BadTable.TableName uses Fn::Sub');
  });

  it('refuses to run without an emulator endpoint', async () => {
    // Prepare
    const withoutEndpoints = Object.fromEntries(Object.entries(aws.env).filter(([name]) => !name.startsWith('AWS_ENDPOINT_URL')));

    // Act
    const provisioning = provisionFromTemplate(template, withoutEndpoints);

    // Assess
    await expect(provisioning).rejects.toThrow(/refusing to provision against real AWS/);
  });
});

// Last on purpose: it stops the shared emulators.
describe('Function: LocalAws.stop', () => {
  it('frees both ports', async () => {
    // Prepare
    const ports = [portOf(aws.endpoints.dynamodb), portOf(aws.endpoints.other)];
    expect(await Promise.all(ports.map(canBind))).toEqual([false, false]);

    // Act
    await aws.stop();

    // Assess
    expect(await Promise.all(ports.map(canBind))).toEqual([true, true]);
  });
});
