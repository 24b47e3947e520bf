import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUE_RETENTION_SECONDS } from '@alma-cache/cache-domain';
import { EVENT_MAX_RECEIVE_COUNT } from '../../src/sqs-handler';
import {
  APP,
  APP_DIR,
  DIST,
  dummyTopicArn,
  EVENTS,
  FUNCTIONS,
  type FunctionKey,
  ITEM_TABLE_OF,
  childEnv,
  namesFor,
  runNode,
  tail,
  topicEnv,
  topicEnvName,
  TOPICS_OF,
  WORKSPACE_ROOT,
} from './support';
import { alarmsOf, byId, functionAlarms, pascalCase, queueAlarm, alarmTopicSettings } from '@alma-cache/local-aws';
import { queueAgeAlarm, rolePolicies, tracingActive, expectedTracing, tracingOf } from '@alma-cache/local-aws';
import { asArray, logGroupArn, nxProject, packageTemplate, type Json, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template, checked against the contract: what osls would hand to AWS.

const BUILD_TIMEOUT_MS = 120_000;
const PACKAGE_TIMEOUT_MS = 120_000;
const names = namesFor('stg');
// Packaged with an alarm topic, so the template shows where the alarms notify; the deploy spec runs without one.
const ALARM_TOPIC_ARN = 'arn:aws:sns:eu-west-1:000000000000:alma-cache-alarms';
const LOG_GROUP_ARN = (fn: FunctionKey) => logGroupArn(names.function(fn));

describe('Template: sns-lambdas', () => {
  let template: Template;
  let workDir: string;
  let packageDir: string;

  const resourcesOfType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const logicalIdWhere = (type: string, property: string, value: string) => {
    const found = resourcesOfType(type).filter(([, r]) => r.Properties?.[property] === value);
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0][0];
  };
  const tableId = (name: keyof typeof names.tables) => logicalIdWhere('AWS::DynamoDB::Table', 'TableName', names.tables[name]);
  const queueId = (name: keyof typeof names.queues) => logicalIdWhere('AWS::SQS::Queue', 'QueueName', names.queues[name]);
  /** A function's own queue (or its DLQ), by its physical name `alma-cache-stg-<fn>[-dlq]`. */
  const fnQueueId = (fn: FunctionKey, dlq?: 'dlq') => logicalIdWhere('AWS::SQS::Queue', 'QueueName', `alma-cache-stg-${fn}${dlq ? '-dlq' : ''}`);
  const functionId = (fn: FunctionKey) => logicalIdWhere('AWS::Lambda::Function', 'FunctionName', names.function(fn));
  const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  const pointsAtFunction = (value: Json, fnId: string) => JSON.stringify(value) === JSON.stringify(getAttArn(fnId));

  /** The role a function runs with, from its Role property (Fn::GetAtt or Fn::Sub of `${Role.Arn}`). */
  const roleIdOf = (fnId: string): string => {
    const role = template.Resources[fnId].Properties?.['Role'] as Record<string, Json>;
    if (role['Fn::GetAtt']) return (role['Fn::GetAtt'] as string[])[0];
    const sub = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(String(role['Fn::Sub']));
    if (!sub) throw new Error(`unexpected Role on ${fnId}: ${JSON.stringify(role)}`);
    return sub[1];
  };

  /** Every (action, resource) pair a role allows, resources written as their CloudFormation JSON. */
  const grantsOf = (roleId: string): string[] => {
    const role = template.Resources[roleId];
    const policies = rolePolicies(role.Properties?.['Policies'], tracingActive(template));
    return policies
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`));
      })
      .sort();
  };

  beforeAll(async () => {
    // Prepare: bundle the real handlers and package offline, both into folders of our own: a deploy spec
    // may be building dist/ and packaging into .serverless at the same time.
    workDir = mkdtempSync(join(tmpdir(), 'sns-lambdas-template-'));
    const bundleDir = join(workDir, 'bundles');
    packageDir = join(workDir, 'package');
    const env = childEnv({ ...topicEnv('stg', dummyTopicArn), SNS_LAMBDAS_ARTIFACT_DIR: bundleDir, ALARM_TOPIC_ARN_STG: ALARM_TOPIC_ARN });
    const build = await runNode(['tools/scripts/bundle-lambdas.mjs', '--app', APP, '--out', bundleDir, ...FUNCTIONS], env, BUILD_TIMEOUT_MS);
    if (build.code !== 0) throw new Error(`bundle-lambdas failed (exit ${build.code}):\n${tail(build.output)}`);

    // Act
    template = await packageTemplate(APP, 'stg', packageDir, env, PACKAGE_TIMEOUT_MS);
  }, BUILD_TIMEOUT_MS + PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('looks for the bundles where the Nx build target writes them, unless told otherwise', () => {
    // Prepare
    const project = nxProject('sns-lambdas');
    const serverlessYml = readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8');

    // Assess
    expect(project.targets['build'].outputs).toEqual([`{workspaceRoot}/${DIST}`]);
    expect(project.targets['build'].options.command).toContain(`--out ${DIST} ${FUNCTIONS.join(' ')}`);
    expect(serverlessYml).toContain(`artifactDir: \${env:SNS_LAMBDAS_ARTIFACT_DIR, '../../${DIST}'}`);
  });

  it("subscribes each function's own queue raw to exactly its topics; no topic invokes a function", () => {
    // Assess
    const subscriptions = resourcesOfType('AWS::SNS::Subscription');
    expect(subscriptions).toHaveLength(EVENTS.length);
    expect(resourcesOfType('AWS::Lambda::Permission')).toHaveLength(0);
    for (const fn of FUNCTIONS) {
      const queueArn = getAttArn(fnQueueId(fn));
      const subscribed = subscriptions
        .filter(([, r]) => JSON.stringify(r.Properties?.['Endpoint']) === JSON.stringify(queueArn))
        .map(([id, r]) => {
          expect({ id, protocol: r.Properties?.['Protocol'], raw: r.Properties?.['RawMessageDelivery'] }).toEqual({ id, protocol: 'sqs', raw: true });
          return r.Properties?.['TopicArn'];
        });
      expect({ fn, topics: subscribed.sort() }).toEqual({ fn, topics: TOPICS_OF[fn].map(dummyTopicArn).sort() });
    }
  });

  it('lets each topic send only to the queue of the function that handles it, in one queue policy', () => {
    // Assess
    const policies = resourcesOfType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0];
    expect(policy.Properties?.['Queues']).toEqual(FUNCTIONS.map((fn) => ({ Ref: fnQueueId(fn) })));
    const statements = (policy.Properties?.['PolicyDocument'] as { Statement: Record<string, Json>[] }).Statement;
    expect(statements).toEqual(
      FUNCTIONS.map((fn) => ({
        Sid: `TopicsTo${pascalCase(fn)}Queue`,
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAttArn(fnQueueId(fn)),
        Condition: { ArnEquals: { 'aws:SourceArn': TOPICS_OF[fn].map(dummyTopicArn) } },
      })),
    );
  });

  it('defines the four cache tables: on demand, one string hash key, TTL on expires_at; Loans and Requests streamed', () => {
    // Assess
    const keys: Record<keyof typeof names.tables, string> = {
      users: 'primary_id',
      loans: 'loan_id',
      requests: 'request_id',
      userRefreshClaims: 'primary_id',
    };
    // The change notifications (apps/change-lambdas) compare each write's old and new image.
    const streamed: (keyof typeof names.tables)[] = ['loans', 'requests'];
    expect(resourcesOfType('AWS::DynamoDB::Table')).toHaveLength(4);
    for (const [table, key] of Object.entries(keys) as [keyof typeof names.tables, string][]) {
      const properties = template.Resources[tableId(table)].Properties;
      expect({ table, properties }).toEqual({
        table,
        properties: {
          TableName: names.tables[table],
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          ...(streamed.includes(table) ? { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
        },
      });
    }
  });

  it("redrives the Users queue to its DLQ after 3 receives and each function's queue to its own DLQ after 12; every queue keeps messages 14 days", () => {
    // Assess: the Users queue and its DLQ, the SNS path's failure queue (kept one release), a queue and a DLQ per function
    expect(resourcesOfType('AWS::SQS::Queue')).toHaveLength(3 + 2 * FUNCTIONS.length);
    const users = template.Resources[queueId('users')].Properties;
    expect(users?.['RedrivePolicy']).toEqual({ deadLetterTargetArn: getAttArn(queueId('usersDlq')), maxReceiveCount: 3 });
    // Long enough for the bulk refresh's 60 s function (6 x 60 s + its 2 s batching window, AWS's advice).
    expect(users?.['VisibilityTimeout']).toBeGreaterThanOrEqual(362);
    for (const fn of FUNCTIONS) {
      const queue = template.Resources[fnQueueId(fn)].Properties;
      // The number of receives the handler's backoff is planned over (sqs-handler.ts).
      expect({ fn, redrive: queue?.['RedrivePolicy'] }).toEqual({
        fn,
        redrive: { deadLetterTargetArn: getAttArn(fnQueueId(fn, 'dlq')), maxReceiveCount: EVENT_MAX_RECEIVE_COUNT },
      });
      // At least 6 x the function's 10 s + its batching window (none).
      expect({ fn, visibility: queue?.['VisibilityTimeout'] }).toEqual({ fn, visibility: 70 });
    }
    // Every queue as long as the replay horizon counts on (expiry-policy.ts): a source queue shorter than its DLQ
    // would drop messages in a long outage before the DLQ saw them.
    for (const [queue] of resourcesOfType('AWS::SQS::Queue')) {
      expect({ queue, retention: template.Resources[queue].Properties?.['MessageRetentionPeriod'] }).toEqual({
        queue,
        retention: QUEUE_RETENTION_SECONDS,
      });
    }
  });

  it('reads each queue in batches of 10 with partial batch responses, at most 5 invocations at once; no asynchronous-invocation settings', () => {
    // Assess
    expect(resourcesOfType('AWS::Lambda::EventInvokeConfig')).toHaveLength(0);
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const mine = mappings.filter(([, r]) => pointsAtFunction(r.Properties?.['FunctionName'], functionId(fn)));
      expect(mine).toHaveLength(1);
      expect({ fn, properties: mine[0][1].Properties }).toEqual({
        fn,
        properties: {
          BatchSize: 10,
          // None: a window would add up to its length to each event's time to the cache on a quiet queue.
          MaximumBatchingWindowInSeconds: 0,
          EventSourceArn: getAttArn(fnQueueId(fn)),
          FunctionName: getAttArn(functionId(fn)),
          Enabled: true,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 5 },
        },
      });
    }
  });

  it('runs each function on nodejs22.x from its own bundle, with its own log group', () => {
    // Assess
    expect(resourcesOfType('AWS::Lambda::Function')).toHaveLength(FUNCTIONS.length);
    for (const fn of FUNCTIONS) {
      const properties = template.Resources[functionId(fn)].Properties ?? {};
      expect({ fn, runtime: properties['Runtime'], handler: properties['Handler'] }).toEqual({
        fn,
        runtime: 'nodejs22.x',
        handler: 'index.handler',
      });
      expect(properties['MemorySize']).toBe(256);
      expect(properties['Timeout']).toBe(10);
      expect(properties['Architectures']).toEqual(['arm64']);
      expect(String((properties['Code'] as { S3Key: string }).S3Key)).toMatch(new RegExp(`/${fn}\\.zip$`));
      const logGroups = resourcesOfType('AWS::Logs::LogGroup').filter(
        ([, r]) => r.Properties?.['LogGroupName'] === `/aws/lambda/${names.function(fn)}`,
      );
      expect(logGroups).toHaveLength(1);
      expect(logGroups[0][1].Properties?.['RetentionInDays']).toBe(30);
    }
  });

  it("gives each function the cache's table names, the Users queue URL, its own DLQ's ARN, its own queue's URL (the upgrade forwarder's) and its runtime settings (not the failure queue: nothing sends there now)", () => {
    // Assess
    for (const fn of FUNCTIONS) {
      const properties = template.Resources[functionId(fn)].Properties ?? {};
      expect({ fn, env: (properties['Environment'] as { Variables: Json }).Variables }).toEqual({
        fn,
        env: {
          USER_CACHE_TABLE_NAME: { Ref: tableId('users') },
          LOAN_CACHE_TABLE_NAME: { Ref: tableId('loans') },
          REQUEST_CACHE_TABLE_NAME: { Ref: tableId('requests') },
          USER_REFRESH_CLAIM_TABLE_NAME: { Ref: tableId('userRefreshClaims') },
          USER_QUEUE_URL: { Ref: queueId('users') },
          DEAD_LETTER_QUEUE_ARN: getAttArn(fnQueueId(fn, 'dlq')),
          SOURCE_QUEUE_URL: { Ref: fnQueueId(fn) },
          POWERTOOLS_SERVICE_NAME: 'alma-cache-sns',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_TRACE_ENABLED: 'false',
        },
      });
    }
  });

  it('gives each function its own role with exactly the grants its handler needs', () => {
    // Assess
    const roles = resourcesOfType('AWS::IAM::Role');
    expect(roles).toHaveLength(FUNCTIONS.length);
    expect(resourcesOfType('AWS::IAM::Policy')).toHaveLength(0);
    expect(resourcesOfType('AWS::IAM::ManagedPolicy')).toHaveLength(0);
    const roleIds = FUNCTIONS.map((fn) => roleIdOf(functionId(fn)));
    expect(new Set(roleIds).size).toBe(FUNCTIONS.length);

    for (const fn of FUNCTIONS) {
      const roleId = roleIdOf(functionId(fn));
      const role = template.Resources[roleId].Properties ?? {};
      expect(role['ManagedPolicyArns']).toBeUndefined();
      expect(role['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
      const itemTable = ITEM_TABLE_OF[fn];
      const expected = [
        `logs:CreateLogStream ${JSON.stringify({ 'Fn::Sub': LOG_GROUP_ARN(fn) })}`,
        `logs:PutLogEvents ${JSON.stringify({ 'Fn::Sub': LOG_GROUP_ARN(fn) })}`,
        `dynamodb:PutItem ${JSON.stringify(getAttArn(tableId(itemTable)))}`,
        `dynamodb:UpdateItem ${JSON.stringify(getAttArn(tableId('users')))}`,
        `dynamodb:PutItem ${JSON.stringify(getAttArn(tableId('userRefreshClaims')))}`,
        `dynamodb:UpdateItem ${JSON.stringify(getAttArn(tableId('userRefreshClaims')))}`,
        `sqs:SendMessage ${JSON.stringify(getAttArn(queueId('users')))}`,
        ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'].map(
          (action) => `${action} ${JSON.stringify(getAttArn(fnQueueId(fn)))}`,
        ),
        `sqs:SendMessage ${JSON.stringify(getAttArn(fnQueueId(fn, 'dlq')))}`,
        // For one release: an SNS event reaching the function during the upgrade is forwarded to its own queue.
        `sqs:SendMessage ${JSON.stringify(getAttArn(fnQueueId(fn)))}`,
      ].sort();
      const grants = grantsOf(roleId);
      expect({ fn, grants }).toEqual({ fn, grants: expected });
      // No wildcard anywhere but the trailing `:*` of its own log group (its log streams).
      for (const grant of grants) {
        const [action, resource] = [grant.slice(0, grant.indexOf(' ')), grant.slice(grant.indexOf(' ') + 1)];
        expect(action).not.toContain('*');
        expect(resource.replace(LOG_GROUP_ARN(fn), '')).not.toContain('*');
      }
    }
  });

  it('outputs the table names, the table streams and the queue URLs and ARNs for later stacks', () => {
    // Assess
    expect(template.Outputs).toMatchObject({
      UsersTableName: { Value: { Ref: tableId('users') } },
      LoansTableName: { Value: { Ref: tableId('loans') } },
      RequestsTableName: { Value: { Ref: tableId('requests') } },
      LoansTableStreamArn: { Value: { 'Fn::GetAtt': [tableId('loans'), 'StreamArn'] }, Export: { Name: 'alma-cache-stg-LoansTableStreamArn' } },
      RequestsTableStreamArn: {
        Value: { 'Fn::GetAtt': [tableId('requests'), 'StreamArn'] },
        Export: { Name: 'alma-cache-stg-RequestsTableStreamArn' },
      },
      UserRefreshClaimsTableName: { Value: { Ref: tableId('userRefreshClaims') } },
      UsersQueueUrl: { Value: { Ref: queueId('users') } },
      UsersQueueArn: { Value: getAttArn(queueId('users')) },
      FailureQueueUrl: { Value: { Ref: queueId('failures') } },
      FailureQueueArn: { Value: getAttArn(queueId('failures')) },
    });
  });

  it("alarms on any message in a DLQ or the failure queue, an event waiting over an hour on a function's queue, and any error or throttle of each function", () => {
    // Prepare
    const expected = [
      ...FUNCTIONS.flatMap((fn) => [
        queueAlarm(`${pascalCase(fn)}DeadLetterQueueDepthAlarm`, `alma-cache-stg-${fn}-dlq-not-empty`, fnQueueId(fn, 'dlq')),
        queueAgeAlarm(`${pascalCase(fn)}DeadLetterQueueAgeAlarm`, `alma-cache-stg-${fn}-dlq-message-age`, fnQueueId(fn, 'dlq'), 2 * 24 * 3600),
        queueAgeAlarm(`${pascalCase(fn)}QueueAgeAlarm`, `alma-cache-stg-${fn}-message-age`, fnQueueId(fn), 3600),
      ]),
      queueAlarm('UsersDeadLetterQueueDepthAlarm', `${names.queues.usersDlq}-not-empty`, queueId('usersDlq')),
      queueAlarm('FailureQueueDepthAlarm', `${names.queues.failures}-not-empty`, queueId('failures')),
      ...FUNCTIONS.flatMap((fn) => functionAlarms(pascalCase(fn), names.function(fn), functionId(fn))),
      queueAgeAlarm('UsersDeadLetterQueueAgeAlarm', `${names.queues.usersDlq}-message-age`, queueId('usersDlq'), 2 * 24 * 3600),
      queueAgeAlarm('FailureQueueAgeAlarm', `${names.queues.failures}-message-age`, queueId('failures'), 2 * 24 * 3600),
    ].sort(byId);

    // Assess: two per DLQ/failure queue (the Users queue itself is work, not failure), five per function
    expect(alarmsOf(template.Resources)).toEqual(expected);
    expect(expected).toHaveLength(2 + 2 + 5 * FUNCTIONS.length);
  });

  it('notifies the alarm topic only when ALARM_TOPIC_ARN_<STAGE> is set', () => {
    // Assess
    const { parameter, condition } = alarmTopicSettings(ALARM_TOPIC_ARN);
    expect(template.Parameters?.['AlarmTopicArn']).toEqual(parameter);
    expect(template.Conditions?.['HasAlarmTopic']).toEqual(condition);
    const serverlessYml = readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8');
    expect(serverlessYml).toContain("alarmTopicArn: ${env:ALARM_TOPIC_ARN_${self:custom.stageEnvSuffix}, ''}");
  });

  it('keeps every log group 30 days', () => {
    // Assess
    const logGroups = resourcesOfType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(FUNCTIONS.length);
    for (const [id, logGroup] of logGroups) {
      expect({ id, retention: logGroup.Properties?.['RetentionInDays'] }).toEqual({ id, retention: 30 });
    }
  });

  it('traces with X-Ray per stage (PassThrough for stg unless TRACING_STG=Active), every role listing the X-Ray grant that follows it', () => {
    // Assess
    expect(tracingOf(template)).toEqual(expectedTracing(template, 'PassThrough'));
  });

  it('refuses a stage other than stg and prod before osls runs', async () => {
    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'dev', '--package-dir', packageDir],
      childEnv(topicEnv('stg', dummyTopicArn)),
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('stage "dev" is not allowed: the only stages are stg and prod');
    expect(result.output).not.toContain('Packaging');
  });

  it(
    'fails to resolve serverless.yml for another stage when osls is called directly',
    async () => {
      // Act: osls itself, bypassing the wrapper (cwd is the app)
      const osls = join(WORKSPACE_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
      const result = await runNode(
        [osls, 'print', '--stage', 'dev'],
        childEnv({ ...topicEnv('stg', dummyTopicArn), ...topicEnv('prod', dummyTopicArn) }),
        PACKAGE_TIMEOUT_MS,
        APP_DIR,
      );

      // Assess
      expect(result.code).not.toBe(0);
      expect(result.output).toContain('Cannot resolve variable at "custom.stageEnvSuffix"');
    },
    PACKAGE_TIMEOUT_MS,
  );

  it('without the per-stage override a topic is read from the topics stack, and osls names the one it could not read', async () => {
    // Prepare: no AWS credentials in the child, so the topics stack cannot be asked
    const env = childEnv(topicEnv('prod', dummyTopicArn));
    delete env[topicEnvName('REQUEST_PLACED_ON_SHELF', 'prod')];

    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'prod', '--package-dir', packageDir],
      env,
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('Cannot resolve variable at "custom.topics.REQUEST_PLACED_ON_SHELF"');
    expect(result.output).not.toContain('Packaging');
  });
});
