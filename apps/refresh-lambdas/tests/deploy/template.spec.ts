import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUE_RETENTION_SECONDS } from '@alma-cache/cache-domain';
import {
  ALL_FUNCTIONS,
  type AnyFunctionKey,
  APP,
  APP_DIR,
  AUDIT_FUNCTION,
  childEnv,
  DIST,
  FUNCTIONS,
  type FunctionKey,
  ITEM_FUNCTIONS,
  ITEM_OF,
  namesFor,
  overrideEnv,
  cacheUpdateOutputEnv,
  cacheUpdateOutputs,
  runNode,
  tail,
  WORKSPACE_ROOT,
} from './support';
import { alarmsOf, byId, functionAlarms, pascalCase, queueAlarm, alarmTopicSettings } from '@alma-cache/local-aws';
import { metricAlarm, queueAgeAlarm, rolePolicies, tracingActive, expectedTracing, tracingOf } from '@alma-cache/local-aws';
import { asArray, logGroupArn, nxProject, packageTemplate, ssmParameterArn, tableArn, type Json, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template, checked against the contract: what osls would hand to AWS.

const BUILD_TIMEOUT_MS = 120_000;
const PACKAGE_TIMEOUT_MS = 120_000;
const names = namesFor('stg');
const LOG_GROUP_ARN = (fn: AnyFunctionKey) => logGroupArn(names.function(fn));
const SSM_PARAMETER_ARN = ssmParameterArn;
const TABLE_ARN = tableArn;
/** The cache-update stack output a value defaults to (`${cf:…}`, handed over as overrides: see cacheUpdateOutputEnv). */
const imported = (name: keyof ReturnType<typeof cacheUpdateOutputs>, stage: 'stg' | 'prod' = 'stg') => cacheUpdateOutputs(stage)[name];
const FUNCTION_TIMEOUT_SECONDS = 60;
const BATCHING_WINDOW_SECONDS = 2;
/** The drift audit's 15 minutes: its largest sample at the budget's refresh share. */
const AUDIT_TIMEOUT_SECONDS = 900;

/** Lookups into one packaged template. */
const inspect = (template: Template) => {
  const resourcesOfType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const logicalIdWhere = (type: string, property: string, value: string) => {
    const found = resourcesOfType(type).filter(([, r]) => r.Properties?.[property] === value);
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0][0];
  };
  const queueId = (name: keyof typeof names.queues) => logicalIdWhere('AWS::SQS::Queue', 'QueueName', names.queues[name]);
  const functionId = (fn: AnyFunctionKey) => logicalIdWhere('AWS::Lambda::Function', 'FunctionName', names.function(fn));
  const fn = (key: AnyFunctionKey) => template.Resources[functionId(key)].Properties ?? {};
  const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  const eventSourcesOf = (key: FunctionKey) =>
    resourcesOfType('AWS::Lambda::EventSourceMapping')
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => JSON.stringify(p['FunctionName']) === JSON.stringify(getAttArn(functionId(key))));
  /** The role a function runs with, from its Role property (Fn::Sub of `${Role.Arn}`). */
  const roleIdOf = (key: AnyFunctionKey): string => {
    const sub = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(String((fn(key)['Role'] as Record<string, Json>)['Fn::Sub']));
    if (!sub) throw new Error(`unexpected Role on ${key}: ${JSON.stringify(fn(key)['Role'])}`);
    return sub[1];
  };
  /** Every (action, resource) pair a role allows, resources written as their CloudFormation JSON. */
  const grantsOf = (roleId: string): string[] =>
    rolePolicies(template.Resources[roleId].Properties?.['Policies'], tracingActive(template))
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`));
      })
      .sort();
  /** The statement of a role's policy with this Sid. */
  const statementOf = (roleId: string, sid: string) =>
    rolePolicies(template.Resources[roleId].Properties?.['Policies'], tracingActive(template))
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .find((statement) => (statement as { Sid?: string }).Sid === sid) as Record<string, Json> | undefined;
  return { resourcesOfType, queueId, functionId, fn, getAttArn, eventSourcesOf, roleIdOf, grantsOf, statementOf };
};

describe('Template: refresh-lambdas', () => {
  let workDir: string;
  let bundleDir: string;
  let template: Template;
  let t: ReturnType<typeof inspect>;

  const packageStack = async (stage: 'stg' | 'prod', extraEnv: Record<string, string> = {}): Promise<Template> => {
    const packageDir = join(workDir, `package-${stage}-${Object.keys(extraEnv).length}`);
    const env = childEnv({ ...cacheUpdateOutputEnv(stage), REFRESH_LAMBDAS_ARTIFACT_DIR: bundleDir, ...extraEnv });
    return packageTemplate(APP, stage, packageDir, env, PACKAGE_TIMEOUT_MS);
  };

  beforeAll(async () => {
    // Prepare: bundle the real handlers and package offline into folders of our own, so a deploy spec building dist/
    // and packaging into .serverless at the same time cannot interfere.
    workDir = mkdtempSync(join(tmpdir(), 'refresh-lambdas-template-'));
    bundleDir = join(workDir, 'bundles');
    const build = await runNode(
      ['tools/scripts/bundle-lambdas.mjs', '--app', APP, '--out', bundleDir, ...ALL_FUNCTIONS],
      childEnv({}),
      BUILD_TIMEOUT_MS,
    );
    if (build.code !== 0) throw new Error(`bundle-lambdas failed (exit ${build.code}):\n${tail(build.output)}`);

    // Act: no overrides at all, as the cache-update-first deploy runs
    template = await packageStack('stg');
    t = inspect(template);
  }, BUILD_TIMEOUT_MS + PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('looks for the bundles where the Nx build target writes them, unless told otherwise', () => {
    // Prepare
    const project = nxProject('refresh-lambdas');
    const serverlessYml = readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8');

    // Assess
    expect(project.tags).toEqual(['type:app']);
    expect(project.targets['build'].outputs).toEqual([`{workspaceRoot}/${DIST}`]);
    expect(project.targets['build'].options.command).toContain(`--out ${DIST} ${FUNCTIONS.join(' ')}`);
    expect(project.targets['build'].options.command).toContain(` ${AUDIT_FUNCTION}`);
    expect(project.targets['deploy'].options.command).toContain(`sls.mjs deploy --app ${APP}`);
    expect(serverlessYml).toContain(`artifactDir: \${env:REFRESH_LAMBDAS_ARTIFACT_DIR, '../../${DIST}'}`);
  });

  it("defines the Fees table and the Alma guard table only (the others are the cache-update stack's): on demand, TTL on expires_at", () => {
    // Assess
    const tables = Object.fromEntries(t.resourcesOfType('AWS::DynamoDB::Table').map(([id, table]) => [id, table.Properties]));
    expect(tables).toEqual({
      FeesTable: {
        TableName: names.feesTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'fee_id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'fee_id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      },
      // The stage's Alma budget counters and the negative cache (dynamodb-alma-guard.ts), shared with the query API.
      AlmaGuardTable: {
        TableName: names.guardTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'guard_key', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'guard_key', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      },
    });
  });

  it('gives the Loans, Requests and Fees queues, kept 14 days, a DLQ after 3 receives, kept 14 days, and a visibility timeout of at least 6 function timeouts', () => {
    // Assess
    expect(t.resourcesOfType('AWS::SQS::Queue')).toHaveLength(6);
    for (const queue of ['loans', 'requests', 'fees'] as const) {
      const properties = template.Resources[t.queueId(queue)].Properties ?? {};
      const dlq = `${queue}Dlq` as const;
      expect({ queue, redrive: properties['RedrivePolicy'] }).toEqual({
        queue,
        redrive: { deadLetterTargetArn: t.getAttArn(t.queueId(dlq)), maxReceiveCount: 3 },
      });
      expect(properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * FUNCTION_TIMEOUT_SECONDS + BATCHING_WINDOW_SECONDS);
      expect(template.Resources[t.queueId(dlq)].Properties).toEqual({ QueueName: names.queues[dlq], MessageRetentionPeriod: 1209600 });
      // The source queue keeps its messages as long as its DLQ (and as the replay horizon counts on, expiry-policy.ts).
      expect({ queue, retention: properties['MessageRetentionPeriod'] }).toEqual({ queue, retention: QUEUE_RETENTION_SECONDS });
    }
  });

  it("triggers update-user from the cache-update stack's Users queue and each item function from its own queue, reporting partial batch failures", () => {
    // Assess
    expect(t.resourcesOfType('AWS::Lambda::EventSourceMapping')).toHaveLength(FUNCTIONS.length);
    const sourceOf: Record<FunctionKey, Json> = {
      'update-user': imported('UsersQueueArn'),
      'update-loan': t.getAttArn(t.queueId('loans')),
      'update-request': t.getAttArn(t.queueId('requests')),
      'update-fee': t.getAttArn(t.queueId('fees')),
    };
    for (const key of FUNCTIONS) {
      const sources = t.eventSourcesOf(key);
      expect(sources).toHaveLength(1);
      expect({ key, source: sources[0] }).toEqual({
        key,
        source: {
          EventSourceArn: sourceOf[key],
          FunctionName: t.getAttArn(t.functionId(key)),
          BatchSize: 5,
          MaximumBatchingWindowInSeconds: BATCHING_WINDOW_SECONDS,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          // Never more pollers' invocations than the reserved concurrency: no throttles counted as receives.
          ScalingConfig: { MaximumConcurrency: t.fn(key)['ReservedConcurrentExecutions'] },
          Enabled: true,
        },
      });
    }
  });

  it('caps Alma traffic: reserved concurrency times the per-container ceiling stays under 25 calls/s for update-user', () => {
    // Assess: the budget documented in serverless.yml, at a 0.4 s Alma round trip
    const ceilingOf = (key: FunctionKey) =>
      Number((t.fn(key)['Environment'] as { Variables: Record<string, string> }).Variables['ALMA_MAX_CONCURRENT_REQUESTS']);
    const reservedOf = (key: FunctionKey) => t.fn(key)['ReservedConcurrentExecutions'] as number;
    expect([reservedOf('update-user'), ceilingOf('update-user')]).toEqual([2, 4]);
    expect((reservedOf('update-user') * ceilingOf('update-user')) / 0.4).toBeLessThanOrEqual(25);
    for (const key of ITEM_FUNCTIONS) expect({ key, reserved: reservedOf(key), ceiling: ceilingOf(key) }).toEqual({ key, reserved: 2, ceiling: 1 });
  });

  it('runs the drift audit on an hourly EventBridge schedule, one run at a time, never retried, with its sample, grace, repair and log pepper', () => {
    // Assess
    const auditArn = t.getAttArn(t.functionId(AUDIT_FUNCTION));
    const rules = t.resourcesOfType('AWS::Events::Rule');
    expect(rules.map(([, rule]) => rule.Properties)).toEqual([
      { ScheduleExpression: 'rate(1 hour)', State: 'ENABLED', Targets: [{ Arn: auditArn, Id: expect.any(String) }] },
    ]);
    expect(t.resourcesOfType('AWS::Lambda::Permission').map(([, permission]) => permission.Properties)).toEqual([
      { FunctionName: auditArn, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: t.getAttArn(rules[0][0]) },
    ]);
    // A failed run is not retried: the next run samples again, and a failure never spends its Alma calls twice.
    expect(t.resourcesOfType('AWS::Lambda::EventInvokeConfig').map(([, config]) => config.Properties)).toEqual([
      { FunctionName: { Ref: t.functionId(AUDIT_FUNCTION) }, DestinationConfig: {}, Qualifier: '$LATEST', MaximumRetryAttempts: 0 },
    ]);
    const audit = t.fn(AUDIT_FUNCTION);
    expect(audit['ReservedConcurrentExecutions']).toBe(1);
    const env = (audit['Environment'] as { Variables: Record<string, Json> }).Variables;
    expect(env).toMatchObject({
      AUDIT_SAMPLE_SIZE: '60',
      AUDIT_GRACE_SECONDS: '300',
      AUDIT_REPAIR: 'true',
      AUDIT_LOG_PEPPER_NAME: '/alma-cache/stg/query-log-pepper',
      ALMA_MAX_CONCURRENT_REQUESTS: '2',
      ALMA_CALLS_PER_SECOND: '10',
    });
    expect(env['DEAD_LETTER_QUEUE_ARN']).toBeUndefined();
    // Its Alma calls come from the budget's refresh share only: it cannot take the query misses' share.
    expect(t.statementOf(t.roleIdOf(AUDIT_FUNCTION), 'AlmaGuard')?.['Condition']).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate/refresh/*', 'unknown/*'] },
    });
  });

  it('runs each function on nodejs22.x arm64 from its own bundle, with its own log group kept 30 days', () => {
    // Assess
    expect(t.resourcesOfType('AWS::Lambda::Function')).toHaveLength(ALL_FUNCTIONS.length);
    for (const key of ALL_FUNCTIONS) {
      const properties = t.fn(key);
      expect({ key, runtime: properties['Runtime'], handler: properties['Handler'], arch: properties['Architectures'] }).toEqual({
        key,
        runtime: 'nodejs22.x',
        handler: 'index.handler',
        arch: ['arm64'],
      });
      expect(properties['Timeout']).toBe(key === AUDIT_FUNCTION ? AUDIT_TIMEOUT_SECONDS : FUNCTION_TIMEOUT_SECONDS);
      expect(String((properties['Code'] as { S3Key: string }).S3Key)).toMatch(new RegExp(`/${key}\\.zip$`));
      const logGroups = t
        .resourcesOfType('AWS::Logs::LogGroup')
        .filter(([, r]) => r.Properties?.['LogGroupName'] === `/aws/lambda/${names.function(key)}`);
      expect(logGroups.map(([, r]) => r.Properties?.['RetentionInDays'])).toEqual([30]);
    }
  });

  it("gives each function the cache-update stack's table names, the Fees table, Alma's host, the key's parameter name and its own DLQ", () => {
    // Assess
    const deadLetterQueueOf: Record<FunctionKey, Json> = {
      'update-user': imported('UsersDeadLetterQueueArn'),
      'update-loan': t.getAttArn(t.queueId('loansDlq')),
      'update-request': t.getAttArn(t.queueId('requestsDlq')),
      'update-fee': t.getAttArn(t.queueId('feesDlq')),
    };
    for (const key of FUNCTIONS) {
      expect({ key, env: (t.fn(key)['Environment'] as { Variables: Json }).Variables }).toEqual({
        key,
        env: {
          USER_CACHE_TABLE_NAME: imported('UsersTableName'),
          LOAN_CACHE_TABLE_NAME: imported('LoansTableName'),
          REQUEST_CACHE_TABLE_NAME: imported('RequestsTableName'),
          FEE_CACHE_TABLE_NAME: { Ref: 'FeesTable' },
          ALMA_GUARD_TABLE_NAME: { Ref: 'AlmaGuardTable' },
          ALMA_CALLS_PER_SECOND: '10',
          ALMA_API_BASE_URL: 'https://api-eu.hosted.exlibrisgroup.com',
          ALMA_API_KEY_NAME: names.defaultApiKeyName,
          ALMA_MAX_CONCURRENT_REQUESTS: key === 'update-user' ? '4' : '1',
          DEAD_LETTER_QUEUE_ARN: deadLetterQueueOf[key],
          POWERTOOLS_SERVICE_NAME: 'alma-cache-refresh',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_TRACE_ENABLED: 'false',
        },
      });
    }
  });

  it('gives each function its own role with exactly the grants its handler needs', () => {
    // Assess
    expect(t.resourcesOfType('AWS::IAM::Role')).toHaveLength(ALL_FUNCTIONS.length);
    expect(t.resourcesOfType('AWS::IAM::Policy')).toHaveLength(0);
    expect(t.resourcesOfType('AWS::IAM::ManagedPolicy')).toHaveLength(0);
    expect(new Set(ALL_FUNCTIONS.map(t.roleIdOf)).size).toBe(ALL_FUNCTIONS.length);
    const grant = (action: string, resource: Json) => `${action} ${JSON.stringify(resource)}`;
    const common = (key: FunctionKey, queueArn: Json, deadLetterQueueArn: Json) => [
      grant('logs:CreateLogStream', { 'Fn::Sub': LOG_GROUP_ARN(key) }),
      grant('logs:PutLogEvents', { 'Fn::Sub': LOG_GROUP_ARN(key) }),
      grant('sqs:ReceiveMessage', queueArn),
      grant('sqs:DeleteMessage', queueArn),
      grant('sqs:GetQueueAttributes', queueArn),
      // Delays a message as Alma's Retry-After asks, on the function's own queue only.
      grant('sqs:ChangeMessageVisibility', queueArn),
      // A poison message sent at once to the DLQ of the function's own queue, and to no other queue.
      grant('sqs:SendMessage', deadLetterQueueArn),
      grant('ssm:GetParameter', SSM_PARAMETER_ARN(names.defaultApiKeyName)),
      // The stage's Alma budget (a counter per second) and the negative cache, on the Alma guard table.
      grant('dynamodb:UpdateItem', t.getAttArn('AlmaGuardTable')),
      grant('dynamodb:PutItem', t.getAttArn('AlmaGuardTable')),
    ];
    const tableArn: Record<'users' | 'loans' | 'requests' | 'fees', Json> = {
      users: TABLE_ARN(imported('UsersTableName')),
      loans: TABLE_ARN(imported('LoansTableName')),
      requests: TABLE_ARN(imported('RequestsTableName')),
      fees: t.getAttArn('FeesTable'),
    };
    const expected: Record<AnyFunctionKey, string[]> = {
      // The drift audit: no queue; samples Users (Scan), reads a patron and their records, repairs as update-user
      // writes (and UpdateItem: unlinks another patron's record); the Alma key and the query API's log pepper.
      'audit-cache': [
        grant('logs:CreateLogStream', { 'Fn::Sub': LOG_GROUP_ARN(AUDIT_FUNCTION) }),
        grant('logs:PutLogEvents', { 'Fn::Sub': LOG_GROUP_ARN(AUDIT_FUNCTION) }),
        grant('ssm:GetParameter', SSM_PARAMETER_ARN(names.defaultApiKeyName)),
        grant('ssm:GetParameter', SSM_PARAMETER_ARN('/alma-cache/stg/query-log-pepper')),
        grant('dynamodb:UpdateItem', t.getAttArn('AlmaGuardTable')),
        grant('dynamodb:PutItem', t.getAttArn('AlmaGuardTable')),
        ...['Scan', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((action) => grant(`dynamodb:${action}`, tableArn.users)),
        ...(['loans', 'requests', 'fees'] as const).flatMap((table) => [
          grant('dynamodb:BatchGetItem', tableArn[table]),
          grant('dynamodb:PutItem', tableArn[table]),
        ]),
      ],
      'update-user': [
        ...common('update-user', imported('UsersQueueArn'), imported('UsersDeadLetterQueueArn')),
        grant('dynamodb:GetItem', tableArn.users),
        grant('dynamodb:PutItem', tableArn.users),
        grant('dynamodb:DeleteItem', tableArn.users),
        grant('dynamodb:PutItem', tableArn.loans),
        grant('dynamodb:PutItem', tableArn.requests),
        grant('dynamodb:PutItem', tableArn.fees),
      ],
      ...(Object.fromEntries(
        ITEM_FUNCTIONS.map((key) => [
          key,
          [
            ...common(key, t.getAttArn(t.queueId(ITEM_OF[key].queue)), t.getAttArn(t.queueId(`${ITEM_OF[key].queue}Dlq`))),
            // The owner check before a tombstone (RefreshItem: only the named patron's record).
            grant('dynamodb:GetItem', tableArn[ITEM_OF[key].table]),
            grant('dynamodb:PutItem', tableArn[ITEM_OF[key].table]),
            grant('dynamodb:UpdateItem', tableArn.users),
          ],
        ]),
      ) as Record<(typeof ITEM_FUNCTIONS)[number], string[]>),
    };

    for (const key of ALL_FUNCTIONS) {
      const roleId = t.roleIdOf(key);
      const role = template.Resources[roleId].Properties ?? {};
      expect(role['ManagedPolicyArns']).toBeUndefined();
      expect(role['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
      const grants = t.grantsOf(roleId);
      expect({ key, grants }).toEqual({ key, grants: expected[key].sort() });
      // No wildcard anywhere but the trailing `:*` of its own log group (its log streams).
      for (const line of grants) {
        const [action, resource] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
        expect(action).not.toContain('*');
        expect(resource.replace(LOG_GROUP_ARN(key), '')).not.toContain('*');
      }
    }
  });

  it('alarms on any message in each DLQ and on any error or throttle of each function, notifying no topic unless one is set', () => {
    // Prepare: packaged without ALARM_TOPIC_ARN_STG, so the parameter defaults to '' and the condition is false
    const expected = [
      queueAlarm('LoansDeadLetterQueueDepthAlarm', `${names.queues.loansDlq}-not-empty`, t.queueId('loansDlq')),
      queueAlarm('RequestsDeadLetterQueueDepthAlarm', `${names.queues.requestsDlq}-not-empty`, t.queueId('requestsDlq')),
      queueAlarm('FeesDeadLetterQueueDepthAlarm', `${names.queues.feesDlq}-not-empty`, t.queueId('feesDlq')),
      ...ALL_FUNCTIONS.flatMap((key) => functionAlarms(pascalCase(key), names.function(key), t.functionId(key))),
      queueAgeAlarm('LoansDeadLetterQueueAgeAlarm', `${names.queues.loansDlq}-message-age`, t.queueId('loansDlq'), 2 * 24 * 3600),
      queueAgeAlarm('RequestsDeadLetterQueueAgeAlarm', `${names.queues.requestsDlq}-message-age`, t.queueId('requestsDlq'), 2 * 24 * 3600),
      queueAgeAlarm('FeesDeadLetterQueueAgeAlarm', `${names.queues.feesDlq}-message-age`, t.queueId('feesDlq'), 2 * 24 * 3600),
      metricAlarm({
        id: 'AlmaThrottledAlarm',
        name: `${names.stack}-alma-throttled`,
        metric: 'AlmaCache/AlmaThrottled',
        statistic: 'Sum',
        dimensions: [{ Name: 'service', Value: 'alma-cache-refresh' }],
        period: 300,
        evaluationPeriods: 3,
        threshold: 10,
        comparison: 'GreaterThanThreshold',
      }),
    ].sort(byId);

    // Assess: the Users queue's DLQ is the cache-update stack's, and alarmed there
    const { CacheDriftAlarm: drift, ...others } = Object.fromEntries(
      t.resourcesOfType('AWS::CloudWatch::Alarm').map(([id, alarm]) => [id, alarm]),
    ) as Record<string, { Type: string; Properties?: Record<string, Json> }>;
    expect(alarmsOf(others)).toEqual(expected);
    expect(expected).toHaveLength(3 + 3 + 1 + 2 * ALL_FUNCTIONS.length);
    // Cache drift: drifted patrons above 2 % of those audited, summed over 3 hours (metric math on the audit's metrics).
    const sum = (id: string, metric: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Stat: 'Sum',
        Period: 10800,
        Metric: { Namespace: 'AlmaCache', MetricName: metric, Dimensions: [{ Name: 'service', Value: 'alma-cache-refresh' }] },
      },
    });
    expect(drift.Properties).toEqual({
      AlarmName: `${names.stack}-cache-drift`,
      AlarmDescription: expect.stringContaining('check the Alma integration profile'),
      Period: { Ref: 'AWS::NoValue' },
      EvaluationPeriods: 1,
      Threshold: '2',
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: [
        sum('drifted', 'DriftedPatrons'),
        sum('audited', 'AuditedPatrons'),
        { Id: 'driftPercent', ReturnData: true, Label: 'Drifted patrons, % of audited', Expression: 'IF(audited > 0, 100 * drifted / audited, 0)' },
      ],
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    });
    const { parameter, condition } = alarmTopicSettings('');
    expect(template.Parameters?.['AlarmTopicArn']).toEqual(parameter);
    expect(template.Conditions?.['HasAlarmTopic']).toEqual(condition);
  });

  it('keeps every log group 30 days', () => {
    // Assess
    const logGroups = t.resourcesOfType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(ALL_FUNCTIONS.length);
    for (const [id, logGroup] of logGroups) expect({ id, retention: logGroup.Properties?.['RetentionInDays'] }).toEqual({ id, retention: 30 });
  });

  it('exports the Fees table and the three queues with their DLQs for other stacks', () => {
    // Assess
    const exported = Object.fromEntries(Object.entries(template.Outputs).map(([key, output]) => [key, [output.Value, output.Export?.Name]]));
    expect(exported).toEqual({
      // osls's own, for its deployment bucket
      ServerlessDeploymentBucketName: [{ Ref: 'ServerlessDeploymentBucket' }, 'sls-alma-cache-refresh-stg-ServerlessDeploymentBucketName'],
      FeesTableName: [{ Ref: 'FeesTable' }, 'alma-cache-stg-FeesTableName'],
      AlmaGuardTableName: [{ Ref: 'AlmaGuardTable' }, 'alma-cache-stg-AlmaGuardTableName'],
      LoansQueueUrl: [{ Ref: t.queueId('loans') }, 'alma-cache-stg-LoansQueueUrl'],
      LoansQueueArn: [t.getAttArn(t.queueId('loans')), 'alma-cache-stg-LoansQueueArn'],
      LoansDeadLetterQueueUrl: [{ Ref: t.queueId('loansDlq') }, 'alma-cache-stg-LoansDeadLetterQueueUrl'],
      RequestsQueueUrl: [{ Ref: t.queueId('requests') }, 'alma-cache-stg-RequestsQueueUrl'],
      RequestsQueueArn: [t.getAttArn(t.queueId('requests')), 'alma-cache-stg-RequestsQueueArn'],
      RequestsDeadLetterQueueUrl: [{ Ref: t.queueId('requestsDlq') }, 'alma-cache-stg-RequestsDeadLetterQueueUrl'],
      FeesQueueUrl: [{ Ref: t.queueId('fees') }, 'alma-cache-stg-FeesQueueUrl'],
      FeesQueueArn: [t.getAttArn(t.queueId('fees')), 'alma-cache-stg-FeesQueueArn'],
      FeesDeadLetterQueueUrl: [{ Ref: t.queueId('feesDlq') }, 'alma-cache-stg-FeesDeadLetterQueueUrl'],
    });
  });

  it(
    'takes the Users queue and its DLQ, the tables and the API key name from the environment when given, importing nothing',
    async () => {
      // Prepare
      const given = {
        usersQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:legacy-users',
        usersDeadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:legacy-users-dlq',
        usersTable: 'legacy-users',
        loansTable: 'legacy-loans',
        requestsTable: 'legacy-requests',
      };

      // Act
      const overridden = await packageStack('stg', {
        ...overrideEnv('stg', given),
        ALMA_API_KEY_NAME: '/legacy/alma-key',
        ALMA_API_BASE_URL: 'https://api-na.hosted.exlibrisgroup.com',
        AUDIT_SCHEDULE_STG: 'rate(30 minutes)',
        AUDIT_SAMPLE_SIZE_STG: '120',
        AUDIT_REPAIR_STG: 'false',
        AUDIT_DRIFT_ALARM_PERCENT_STG: '5',
      });

      // Assess
      const o = inspect(overridden);
      expect(JSON.stringify(overridden)).not.toContain('Fn::ImportValue');
      expect(o.eventSourcesOf('update-user')[0]['EventSourceArn']).toBe(given.usersQueueArn);
      expect((o.fn('update-loan')['Environment'] as { Variables: Record<string, Json> }).Variables).toMatchObject({
        USER_CACHE_TABLE_NAME: 'legacy-users',
        LOAN_CACHE_TABLE_NAME: 'legacy-loans',
        REQUEST_CACHE_TABLE_NAME: 'legacy-requests',
        ALMA_API_KEY_NAME: '/legacy/alma-key',
        ALMA_API_BASE_URL: 'https://api-na.hosted.exlibrisgroup.com',
      });
      const userGrants = o.grantsOf(o.roleIdOf('update-user'));
      expect(userGrants).toContain(`sqs:ReceiveMessage ${JSON.stringify(given.usersQueueArn)}`);
      expect(userGrants).toContain(`sqs:SendMessage ${JSON.stringify(given.usersDeadLetterQueueArn)}`);
      expect((o.fn('update-user')['Environment'] as { Variables: Record<string, Json> }).Variables['DEAD_LETTER_QUEUE_ARN']).toBe(
        given.usersDeadLetterQueueArn,
      );
      expect(userGrants).toContain(`dynamodb:DeleteItem ${JSON.stringify(TABLE_ARN('legacy-users'))}`);
      expect(userGrants).toContain(`ssm:GetParameter ${JSON.stringify(SSM_PARAMETER_ARN('/legacy/alma-key'))}`);
      // The drift audit's per-stage settings.
      expect(o.resourcesOfType('AWS::Events::Rule').map(([, rule]) => rule.Properties?.['ScheduleExpression'])).toEqual(['rate(30 minutes)']);
      expect((o.fn(AUDIT_FUNCTION)['Environment'] as { Variables: Record<string, Json> }).Variables).toMatchObject({
        AUDIT_SAMPLE_SIZE: '120',
        AUDIT_REPAIR: 'false',
      });
      expect(overridden.Resources['CacheDriftAlarm'].Properties?.['Threshold']).toBe('5');
    },
    PACKAGE_TIMEOUT_MS,
  );

  it(
    "reads the prod cache-update stack's outputs for stage prod and names everything for prod",
    async () => {
      // Act
      const prod = await packageStack('prod');

      // Assess
      const text = JSON.stringify(prod);
      expect(text).toContain(JSON.stringify(imported('UsersQueueArn', 'prod')));
      expect(text).not.toMatch(/alma-cache-stg|alma-cache-refresh-stg/);
      expect(prod.Resources['FeesTable'].Properties?.['TableName']).toBe('alma-cache-prod-fees');
      expect(text).toContain('parameter/alma-cache/prod/alma-api-key');
    },
    PACKAGE_TIMEOUT_MS,
  );

  it('traces with X-Ray per stage (PassThrough for stg unless TRACING_STG=Active), every role listing the X-Ray grant that follows it', () => {
    // Assess
    expect(tracingOf(template)).toEqual(expectedTracing(template, 'PassThrough'));
  });

  it('refuses a stage other than stg and prod before osls runs', async () => {
    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'dev', '--package-dir', join(workDir, 'dev')],
      childEnv({}),
      PACKAGE_TIMEOUT_MS,
      WORKSPACE_ROOT,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('stage "dev" is not allowed: the only stages are stg and prod');
    expect(result.output).not.toContain('Packaging');
  });
});
