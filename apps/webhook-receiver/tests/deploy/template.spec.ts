import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_ROUTES } from '../../src/routes';
import {
  APP,
  APP_DIR,
  childEnv,
  DIST,
  dummyTopicArn,
  EVENTS,
  FUNCTION,
  namesFor,
  runNode,
  type Stage,
  tail,
  topicEnv,
  topicEnvName,
  WORKSPACE_ROOT,
} from './support';
import { alarmsOf, functionAlarms, alarmTopicSettings } from '@alma-cache/local-aws';
import { byId, httpApi5xxAlarm, metricAlarm, rolePolicies, tracingActive, expectedTracing, tracingOf } from '@alma-cache/local-aws';
import { asArray, logGroupArn, nxProject, packageTemplate, type Json, type Resource, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template, checked against the contract: what osls would hand to AWS.

const BUILD_TIMEOUT_MS = 120_000;
const PACKAGE_TIMEOUT_MS = 120_000;
const ALMA_WAITS_MS = 5_000;
const functionLogGroupArn = (stage: Stage) => logGroupArn(namesFor(stage).function);
const secretArn = (name: string) => `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}`;

describe('Template: webhook-receiver', () => {
  let workDir: string;
  let bundleDir: string;
  let template: Template;
  const names = namesFor('stg');

  /** Packages serverless.yml offline for a stage into a folder of its own; the template, or the failed run. */
  const packageFor = async (stage: Stage, env: NodeJS.ProcessEnv): Promise<Template> => {
    const packageDir = mkdtempSync(join(workDir, `package-${stage}-`));
    return packageTemplate(APP, stage, packageDir, env, PACKAGE_TIMEOUT_MS);
  };
  const resourcesOfType = (type: string, from = template) => Object.entries(from.Resources).filter(([, r]) => r.Type === type);
  const onlyOfType = (type: string, from = template): [string, Resource] => {
    const found = resourcesOfType(type, from);
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0];
  };
  const functionOf = (from = template) => onlyOfType('AWS::Lambda::Function', from);
  const roleIdOf = (fn: Resource): string => {
    const sub = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(String((fn.Properties?.['Role'] as Record<string, Json>)['Fn::Sub']));
    if (!sub) throw new Error(`unexpected Role: ${JSON.stringify(fn.Properties?.['Role'])}`);
    return sub[1];
  };
  /** Every (action, resource) pair a role allows, resources written as their CloudFormation JSON. */
  const grantsOf = (roleId: string, from = template): string[] => {
    const policies = rolePolicies(from.Resources[roleId].Properties?.['Policies'], tracingActive(from));
    return policies
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`));
      })
      .sort();
  };

  beforeAll(async () => {
    // Prepare: bundle the real handler and package offline, into folders of our own: a deploy spec may be building
    // dist/ and packaging into .serverless at the same time.
    workDir = mkdtempSync(join(tmpdir(), 'webhook-receiver-template-'));
    bundleDir = join(workDir, 'bundles');
    const build = await runNode(['tools/scripts/bundle-lambdas.mjs', '--app', APP, '--out', bundleDir, FUNCTION], childEnv({}), BUILD_TIMEOUT_MS);
    if (build.code !== 0) throw new Error(`bundle-lambdas failed (exit ${build.code}):\n${tail(build.output)}`);

    // Act
    template = await packageFor('stg', childEnv({ ...topicEnv('stg', dummyTopicArn), WEBHOOK_RECEIVER_ARTIFACT_DIR: bundleDir }));
  }, BUILD_TIMEOUT_MS + PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('looks for the bundle where the Nx build target writes it, unless told otherwise', () => {
    // Prepare
    const project = nxProject('webhook-receiver');
    const serverlessYml = readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8');

    // Assess
    expect(project.tags).toEqual(['type:app']);
    expect(project.targets['build'].outputs).toEqual([`{workspaceRoot}/${DIST}`]);
    expect(project.targets['build'].options.command).toContain(`--out ${DIST} ${FUNCTION}`);
    // Its own bundle, the stacks it reads outputs from (Nx implicitDependencies: the topics), and the inputs check first.
    expect(project.targets['deploy'].dependsOn).toEqual([
      'build',
      { dependencies: true, target: 'deploy', params: 'forward' },
      { projects: ['tools'], target: 'preflight', params: 'forward' },
    ]);
    expect(project.targets['deploy'].options.command).toBe(
      `node tools/scripts/sls.mjs deploy --app ${APP} --stage={args.stage} --region={args.region}`,
    );
    expect(serverlessYml).toContain(`artifactDir: \${env:WEBHOOK_RECEIVER_ARTIFACT_DIR, '../../${DIST}'}`);
  });

  it("declares no DependsOn beside a Ref, GetAtt or Sub of the same resource (cfn-lint W3005, refused by moto's ValidateTemplate)", () => {
    // Assess
    for (const [id, resource] of Object.entries(template.Resources)) {
      for (const dependency of asArray(resource.DependsOn ?? [])) {
        const properties = JSON.stringify(resource.Properties ?? {});
        expect({ id, dependency, referenced: properties.includes(`"${dependency}"`) || properties.includes(`\${${dependency}`) }).toEqual({
          id,
          dependency,
          referenced: false,
        });
      }
    }
  });

  it('maps exactly the routes the receiver serves, explicitly: no $default, no {proxy+}, no authorizer', () => {
    // Prepare
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties ?? {});
    const [integrationId] = onlyOfType('AWS::ApiGatewayV2::Integration');

    // Assess
    expect(routes.map((route) => route['RouteKey']).sort()).toEqual(WEBHOOK_ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of routes) {
      expect(String(route['RouteKey'])).not.toMatch(/\$default|\+\}|^ANY /);
      expect(route['AuthorizationType'] ?? 'NONE').toBe('NONE');
      expect(route['AuthorizerId']).toBeUndefined();
      expect(route['Target']).toEqual({ 'Fn::Join': ['/', ['integrations', { Ref: integrationId }]] });
    }
    expect(resourcesOfType('AWS::ApiGatewayV2::Authorizer')).toHaveLength(0);
  });

  it("hands requests to the function as payload 2.0, giving up before Alma's 5 s", () => {
    // Prepare
    const [, integration] = onlyOfType('AWS::ApiGatewayV2::Integration');
    const [functionId] = functionOf();

    // Assess
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    expect(Number(integration.Properties?.['TimeoutInMillis'])).toBeLessThan(ALMA_WAITS_MS);
  });

  it('lets only this API invoke the function', () => {
    // Prepare
    const [apiId] = onlyOfType('AWS::ApiGatewayV2::Api');
    const [, permission] = onlyOfType('AWS::Lambda::Permission');
    const [functionId] = functionOf();

    // Assess
    expect(permission.Properties).toMatchObject({
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
    expect(permission.Properties?.['SourceArn']).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${apiId}}/*`,
    });
  });

  it('keeps the access logs and the function logs 30 days', () => {
    // Prepare
    const [stageId, stage] = onlyOfType('AWS::ApiGatewayV2::Stage');
    const logGroups = Object.fromEntries(
      resourcesOfType('AWS::Logs::LogGroup').map(([id, group]) => [group.Properties?.['LogGroupName'], { id, group }]),
    );

    // Assess
    expect(stageId).toBe('HttpApiStage');
    expect(stage.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true });
    const access = logGroups[names.accessLogGroup];
    expect(access.group.Properties?.['RetentionInDays']).toBe(30);
    expect((stage.Properties?.['AccessLogSettings'] as Record<string, Json>)['DestinationArn']).toEqual({ 'Fn::GetAtt': [access.id, 'Arn'] });
    expect(JSON.parse(String((stage.Properties?.['AccessLogSettings'] as Record<string, Json>)['Format']))).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      integrationError: '$context.integrationErrorMessage',
    });
    expect(logGroups[`/aws/lambda/${names.function}`].group.Properties?.['RetentionInDays']).toBe(30);
    expect(Object.keys(logGroups)).toHaveLength(2);
  });

  it('alarms on any error or throttle of the function (it owns no queue), notifying no topic unless one is set', () => {
    // Assess: packaged without ALARM_TOPIC_ARN_STG, so the parameter defaults to '' and the condition is false
    const [functionId] = functionOf();
    expect(alarmsOf(template.Resources)).toEqual(
      [
        ...functionAlarms('ReceiveWebhook', names.function, functionId),
        httpApi5xxAlarm(names.stack),
        metricAlarm({
          id: 'WebhookSignatureRejectedAlarm',
          name: `${names.stack}-signature-rejections`,
          metric: 'AlmaCache/WebhooksRejected',
          statistic: 'Sum',
          dimensions: [
            { Name: 'service', Value: 'alma-cache-webhooks' },
            { Name: 'reason', Value: 'signature' },
          ],
          period: 300,
          evaluationPeriods: 1,
          threshold: 5,
          comparison: 'GreaterThanOrEqualToThreshold',
        }),
      ].sort(byId),
    );
    const { parameter, condition } = alarmTopicSettings('');
    expect(template.Parameters?.['AlarmTopicArn']).toEqual(parameter);
    expect(template.Conditions?.['HasAlarmTopic']).toEqual(condition);
  });

  it("runs the function on nodejs22.x arm64 from its bundle, stopped by Lambda at Alma's 5 s", () => {
    // Prepare
    const [, fn] = functionOf();
    const properties = fn.Properties ?? {};

    // Assess
    expect(properties).toMatchObject({
      FunctionName: names.function,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Architectures: ['arm64'],
    });
    expect(Number(properties['Timeout']) * 1000).toBeLessThanOrEqual(ALMA_WAITS_MS);
    expect(String((properties['Code'] as { S3Key: string }).S3Key)).toMatch(new RegExp(`/${FUNCTION}\\.zip$`));
  });

  it('absorbs a flood with reserved concurrency (a Lambda throttle reaches Alma as a 500), never with a stage throttle (a 429)', () => {
    // Prepare
    const [, fn] = functionOf();
    const [, stage] = onlyOfType('AWS::ApiGatewayV2::Stage');

    // Assess: past the reservation Lambda refuses and API Gateway answers 500, which Alma retries; API Gateway's own
    // throttle would answer 429, which Alma drops for good, so none is set on the stage or a route
    expect(fn.Properties?.['ReservedConcurrentExecutions']).toBe(20);
    expect(stage.Properties?.['DefaultRouteSettings']).toBeUndefined();
    expect(stage.Properties?.['RouteSettings']).toBeUndefined();
  });

  it("gives the function the secret's parameter name and the eight topics, as the cache-update stack names them", () => {
    // Prepare
    const [, fn] = functionOf();

    // Assess
    expect((fn.Properties?.['Environment'] as { Variables: Json }).Variables).toEqual({
      ALMA_WEBHOOK_SECRET_NAME: names.defaultSecretName,
      SECRET_CACHE_TTL_SECONDS: '300',
      ...Object.fromEntries(EVENTS.map((event) => [`${event}_TOPIC_ARN`, dummyTopicArn(event)])),
      POWERTOOLS_SERVICE_NAME: 'alma-cache-webhooks',
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
  });

  it('gives the function its own role: its log group, sns:Publish on the eight topics, ssm:GetParameters on the secret and its previous one', () => {
    // Prepare
    const [, fn] = functionOf();
    const roleId = roleIdOf(fn);
    const role = template.Resources[roleId].Properties ?? {};

    // Act
    const grants = grantsOf(roleId);

    // Assess
    expect(resourcesOfType('AWS::IAM::Role')).toHaveLength(1);
    expect(resourcesOfType('AWS::IAM::Policy')).toHaveLength(0);
    expect(resourcesOfType('AWS::IAM::ManagedPolicy')).toHaveLength(0);
    expect(role['ManagedPolicyArns']).toBeUndefined();
    expect(role['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(grants).toEqual(
      [
        `logs:CreateLogStream ${JSON.stringify({ 'Fn::Sub': functionLogGroupArn('stg') })}`,
        `logs:PutLogEvents ${JSON.stringify({ 'Fn::Sub': functionLogGroupArn('stg') })}`,
        ...EVENTS.map((event) => `sns:Publish ${JSON.stringify(dummyTopicArn(event))}`),
        `ssm:GetParameters ${JSON.stringify({ 'Fn::Sub': secretArn(names.defaultSecretName) })}`,
        `ssm:GetParameters ${JSON.stringify({ 'Fn::Sub': secretArn(`${names.defaultSecretName}-previous`) })}`,
      ].sort(),
    );
    for (const grant of grants) {
      const [action, resource] = [grant.slice(0, grant.indexOf(' ')), grant.slice(grant.indexOf(' ') + 1)];
      expect(action).not.toContain('*');
      expect(resource.replace(functionLogGroupArn('stg'), '')).not.toContain('*');
    }
  });

  it("outputs the URL to enter as Alma's Webhook listener URL", () => {
    // Prepare
    const [apiId] = onlyOfType('AWS::ApiGatewayV2::Api');

    // Assess
    expect(template.Outputs['AlmaWebhookListenerUrl'].Value).toEqual({
      'Fn::Join': ['', ['https://', { Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']],
    });
  });

  it(
    'takes the prod topics and a secret named in ALMA_WEBHOOK_SECRET_NAME, and names everything for prod',
    async () => {
      // Prepare
      const prodArn = (event: string) => `arn:aws:sns:eu-west-1:210987654321:prod-${event}`;
      const env = childEnv({
        ...topicEnv('prod', prodArn),
        ALMA_WEBHOOK_SECRET_NAME: '/library/prod/webhook-secret',
        WEBHOOK_RECEIVER_ARTIFACT_DIR: bundleDir,
      });

      // Act
      const prod = await packageFor('prod', env);

      // Assess
      const [, fn] = functionOf(prod);
      expect(fn.Properties?.['FunctionName']).toBe(namesFor('prod').function);
      expect((fn.Properties?.['Environment'] as { Variables: Record<string, Json> }).Variables).toMatchObject({
        ALMA_WEBHOOK_SECRET_NAME: '/library/prod/webhook-secret',
        LOAN_RETURNED_TOPIC_ARN: prodArn('LOAN_RETURNED'),
      });
      const grants = grantsOf(roleIdOf(fn), prod);
      expect(grants).toContain(`ssm:GetParameters ${JSON.stringify({ 'Fn::Sub': secretArn('/library/prod/webhook-secret') })}`);
      expect(grants).toContain(`ssm:GetParameters ${JSON.stringify({ 'Fn::Sub': secretArn('/library/prod/webhook-secret-previous') })}`);
      expect(grants.filter((grant) => grant.startsWith('sns:Publish'))).toEqual(
        EVENTS.map((event) => `sns:Publish ${JSON.stringify(prodArn(event))}`).sort(),
      );
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
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'dev'],
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
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'prod', '--package-dir', join(workDir, 'refused')],
      env,
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('Cannot resolve variable at "custom.topics.REQUEST_PLACED_ON_SHELF"');
    expect(result.output).not.toContain('Packaging');
  });
});
