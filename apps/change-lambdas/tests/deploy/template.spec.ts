import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APP,
  APP_DIR,
  childEnv,
  DIST,
  cacheUpdateStreamArn,
  cacheUpdateStreamEnv,
  FUNCTION,
  namesFor,
  runNode,
  STREAMED_TABLES,
  type StreamedTable,
  streamEnvName,
  tail,
} from './support';
import { alarmsOf, byId, functionAlarms, queueAgeAlarm, queueAlarm, alarmTopicSettings } from '@alma-cache/local-aws';
import { rolePolicies, TRACING_ROLE_POLICY, tracingSettings } from '@alma-cache/local-aws';
import { asArray, logGroupArn, nxProject, packageTemplate, type Json, type Statement, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template, checked against the contract: what osls would hand to AWS.

const TIMEOUT_MS = 120_000;
const names = namesFor('stg');
const LOG_GROUP_ARN = logGroupArn(names.function);
const OVERRIDE_ARN = (table: StreamedTable) => `arn:aws:dynamodb:eu-west-1:000000000000:table/alma-cache-stg-${table}/stream/2026-11-21T00:00:00.000`;

describe('Template: change-lambdas', () => {
  let workDir: string;
  let bundleDir: string;

  const packageStack = async (name: string, extra: Record<string, string> = {}): Promise<Template> => {
    const packageDir = join(workDir, name);
    const env = childEnv({ ...cacheUpdateStreamEnv('stg'), CHANGE_LAMBDAS_ARTIFACT_DIR: bundleDir, ...extra });
    return packageTemplate(APP, 'stg', packageDir, env, TIMEOUT_MS);
  };

  const resourcesOfType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const logicalIdWhere = (template: Template, type: string, property: string, value: string) => {
    const found = resourcesOfType(template, type).filter(([, r]) => r.Properties?.[property] === value);
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0][0];
  };
  const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

  /** Whether the stage traces: the default of the TracingMode parameter the roles' X-Ray grant follows. */
  const tracingActive = (template: Template) => (template.Parameters?.['TracingMode'] as { Default?: string } | undefined)?.Default === 'Active';

  /** Every (action, resource) pair a role allows, resources written as their CloudFormation JSON. */
  const grantsOf = (template: Template, roleId: string): string[] =>
    rolePolicies(template.Resources[roleId].Properties?.['Policies'], tracingActive(template))
      .flatMap((policy): Statement[] => policy.PolicyDocument.Statement)
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`));
      })
      .sort();

  let template: Template;
  let topicId: string;
  let queueId: string;
  let functionId: string;

  beforeAll(async () => {
    // Prepare: bundle the real handler and package offline, into folders of our own (a deploy may be using dist/)
    workDir = mkdtempSync(join(tmpdir(), 'change-lambdas-template-'));
    bundleDir = join(workDir, 'bundles');
    const build = await runNode(['tools/scripts/bundle-lambdas.mjs', '--app', APP, '--out', bundleDir, FUNCTION], childEnv({}), TIMEOUT_MS);
    if (build.code !== 0) throw new Error(`bundle-lambdas failed (exit ${build.code}):\n${tail(build.output)}`);

    // Act
    template = await packageStack('package');
    topicId = logicalIdWhere(template, 'AWS::SNS::Topic', 'TopicName', names.topic);
    queueId = logicalIdWhere(template, 'AWS::SQS::Queue', 'QueueName', names.failureQueue);
    functionId = logicalIdWhere(template, 'AWS::Lambda::Function', 'FunctionName', names.function);
  }, 3 * TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('looks for the bundle where the Nx build target writes it, unless told otherwise', () => {
    // Prepare
    const project = nxProject('change-lambdas');

    // Assess
    expect(project.targets['build'].outputs).toEqual([`{workspaceRoot}/${DIST}`]);
    expect(project.targets['build'].options.command).toContain(`--out ${DIST} ${FUNCTION}`);
    expect(readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8')).toContain(`artifactDir: \${env:CHANGE_LAMBDAS_ARTIFACT_DIR, '../../${DIST}'}`);
  });

  it("ships a source map of its own code only, which Node's source-map reader maps back to the TypeScript line", () => {
    // Prepare: where the bundle logs a change published, and where that line is in the TypeScript
    const code = readFileSync(join(bundleDir, FUNCTION, 'index.js'), 'utf8');
    const map = JSON.parse(readFileSync(join(bundleDir, FUNCTION, 'index.js.map'), 'utf8')) as { sources: string[] };
    const at = code.indexOf("'Change published'") >= 0 ? code.indexOf("'Change published'") : code.indexOf('"Change published"');
    const before = code.slice(0, at).split('\n');
    const tsLines = readFileSync(join(APP_DIR, 'src', 'stream-handler.ts'), 'utf8').split('\n');

    // Act
    const entry = new SourceMap(map as unknown as ConstructorParameters<typeof SourceMap>[0]).findEntry(before.length - 1, before.at(-1)!.length);

    // Assess: no package in the map (Node parses the whole map at every cold start), and our line maps home
    expect(map.sources.filter((source) => source.includes('node_modules'))).toEqual([]);
    expect(at).toBeGreaterThan(0);
    expect('originalSource' in entry ? entry.originalSource : undefined).toMatch(/apps\/change-lambdas\/src\/stream-handler\.ts$/);
    expect('originalLine' in entry ? tsLines[entry.originalLine] : undefined).toContain("'Change published'");
  });

  it('creates the cache-changes topic and the failure queue, and exports them', () => {
    // Assess
    expect(template.Resources[topicId].Properties).toEqual({ TopicName: names.topic });
    expect(template.Resources[queueId].Properties).toEqual({ QueueName: names.failureQueue, MessageRetentionPeriod: 1209600 });
    expect(template.Outputs).toEqual({
      CacheChangesTopicArn: { Value: { Ref: topicId }, Export: { Name: 'alma-cache-stg-CacheChangesTopicArn' } },
      ChangeFailureQueueUrl: { Value: { Ref: queueId }, Export: { Name: 'alma-cache-stg-ChangeFailureQueueUrl' } },
      ChangeFailureQueueArn: { Value: getAttArn(queueId), Export: { Name: 'alma-cache-stg-ChangeFailureQueueArn' } },
      ServerlessDeploymentBucketName: expect.anything(),
    });
  });

  it('runs one function on nodejs22.x from its bundle, with the topic in its environment and its own log group', () => {
    // Prepare
    const properties = template.Resources[functionId].Properties ?? {};
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');

    // Assess
    expect(resourcesOfType(template, 'AWS::Lambda::Function')).toHaveLength(1);
    expect(properties).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 256, Timeout: 30, Architectures: ['arm64'] });
    expect(String((properties['Code'] as { S3Key: string }).S3Key)).toMatch(new RegExp(`/${FUNCTION}\\.zip$`));
    expect((properties['Environment'] as { Variables: Json }).Variables).toEqual({
      CHANGE_TOPIC_ARN: { Ref: topicId },
      POWERTOOLS_SERVICE_NAME: 'alma-cache-changes',
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    expect(logGroups.map(([, r]) => r.Properties)).toEqual([{ LogGroupName: `/aws/lambda/${names.function}`, RetentionInDays: 30 }]);
  });

  it("maps the cache-update stack's two table streams with partial failures, bisection, bounded retries and an on-failure queue", () => {
    // Prepare
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties ?? {});

    // Assess
    expect(mappings.map((mapping) => mapping['EventSourceArn'])).toEqual(STREAMED_TABLES.map((table) => cacheUpdateStreamArn(table, 'stg')));
    for (const mapping of mappings) {
      expect(mapping).toEqual({
        EventSourceArn: expect.anything(),
        FunctionName: getAttArn(functionId),
        Enabled: true,
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 21600,
        DestinationConfig: { OnFailure: { Destination: getAttArn(queueId) } },
      });
    }
  });

  it('gives the function its own role with exactly what it uses: its log streams, the two streams, the topic, the queue', () => {
    // Prepare
    const role = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(
      String((template.Resources[functionId].Properties?.['Role'] as { 'Fn::Sub': string })['Fn::Sub']),
    );
    const roleId = role?.[1] as string;
    const streamReads = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];

    // Assess
    expect(resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id)).toEqual([roleId]);
    expect(resourcesOfType(template, 'AWS::IAM::Policy')).toHaveLength(0);
    expect(template.Resources[roleId].Properties?.['ManagedPolicyArns']).toBeUndefined();
    expect(template.Resources[roleId].Properties?.['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(grantsOf(template, roleId)).toEqual(
      [
        `logs:CreateLogStream ${JSON.stringify({ 'Fn::Sub': LOG_GROUP_ARN })}`,
        `logs:PutLogEvents ${JSON.stringify({ 'Fn::Sub': LOG_GROUP_ARN })}`,
        ...streamReads.flatMap((action) => STREAMED_TABLES.map((table) => `${action} ${JSON.stringify(cacheUpdateStreamArn(table, 'stg'))}`)),
        `sns:Publish ${JSON.stringify({ Ref: topicId })}`,
        `sqs:SendMessage ${JSON.stringify(getAttArn(queueId))}`,
      ].sort(),
    );
  });

  it(
    'reads other streams, mappings and grants alike, when the stage variables name them',
    async () => {
      // Act
      const overridden = await packageStack('package-override', {
        [streamEnvName('loans', 'stg')]: OVERRIDE_ARN('loans'),
        [streamEnvName('requests', 'stg')]: OVERRIDE_ARN('requests'),
      });

      // Assess
      const mappings = resourcesOfType(overridden, 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties?.['EventSourceArn']);
      expect(mappings).toEqual(STREAMED_TABLES.map(OVERRIDE_ARN));
      const roleId = resourcesOfType(overridden, 'AWS::IAM::Role')[0][0];
      expect(grantsOf(overridden, roleId).filter((grant) => grant.startsWith('dynamodb:GetRecords '))).toEqual(
        STREAMED_TABLES.map((table) => `dynamodb:GetRecords ${JSON.stringify(OVERRIDE_ARN(table))}`),
      );
    },
    TIMEOUT_MS,
  );

  it('alarms on any message in the failure queue and on any error or throttle of the function, notifying no topic unless one is set', () => {
    // Assess: packaged without ALARM_TOPIC_ARN_STG, so the parameter defaults to '' and the condition is false
    expect(alarmsOf(template.Resources)).toEqual(
      [
        queueAlarm('ChangeFailureQueueDepthAlarm', `${names.failureQueue}-not-empty`, queueId),
        queueAgeAlarm('ChangeFailureQueueAgeAlarm', `${names.failureQueue}-message-age`, queueId, 6 * 3600),
        ...functionAlarms('PublishChanges', names.function, functionId),
      ].sort(byId),
    );
    const { parameter, condition } = alarmTopicSettings('');
    expect(template.Parameters?.['AlarmTopicArn']).toEqual(parameter);
    expect(template.Conditions?.['HasAlarmTopic']).toEqual(condition);
  });

  it(
    'traces with X-Ray only when the stage says so: PassThrough for stg by default, Active with TRACING_STG=Active, the grant following it',
    async () => {
      // Act
      const traced = await packageStack('package-traced', { TRACING_STG: 'Active' });

      // Assess
      const tracingOf = (t: Template) => {
        const fn = t.Resources[functionId].Properties ?? {};
        const roleId = resourcesOfType(t, 'AWS::IAM::Role')[0][0];
        return {
          config: fn['TracingConfig'],
          powertools: (fn['Environment'] as { Variables: Record<string, Json> }).Variables['POWERTOOLS_TRACE_ENABLED'],
          parameter: t.Parameters?.['TracingMode'],
          condition: t.Conditions?.['TracingActive'],
          listsXrayPolicy: (t.Resources[roleId].Properties?.['Policies'] as Json[]).some(
            (policy) => JSON.stringify(policy) === JSON.stringify(TRACING_ROLE_POLICY),
          ),
          xrayGrants: grantsOf(t, roleId).filter((grant) => grant.startsWith('xray:')),
        };
      };
      expect(tracingOf(template)).toEqual({
        config: { Mode: 'PassThrough' },
        powertools: 'false',
        ...(({ parameter, condition }) => ({ parameter, condition }))(tracingSettings('PassThrough')),
        listsXrayPolicy: true,
        xrayGrants: [],
      });
      expect(tracingOf(traced)).toEqual({
        config: { Mode: 'Active' },
        powertools: 'true',
        ...(({ parameter, condition }) => ({ parameter, condition }))(tracingSettings('Active')),
        listsXrayPolicy: true,
        xrayGrants: ['xray:PutTelemetryRecords "*"', 'xray:PutTraceSegments "*"'],
      });
    },
    TIMEOUT_MS,
  );

  it('refuses a stage other than stg and prod before osls runs', async () => {
    // Act
    const result = await runNode(['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'dev'], childEnv({}), TIMEOUT_MS);

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('stage "dev" is not allowed: the only stages are stg and prod');
  });
});
