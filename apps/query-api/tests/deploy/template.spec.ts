import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUERY_SCOPES, scopesAllowing } from '@alma-cache/cache-domain';
import { QUERY_ROUTE_SPECS, routeKeyOf } from '../../src/route-specs';
import { APP, APP_DIR, childEnv, DIST, FUNCTION, jwtEnv, namesFor, producerOutputEnv, producerOutputs, runNode, tail } from './support';
import { alarmsOf, functionAlarms, alarmTopicSettings } from '@alma-cache/local-aws';
import {
  byId,
  httpApi5xxAlarm,
  metricAlarm,
  HTTP_API_STAGE_DIMENSIONS,
  rolePolicies,
  tracingActive,
  expectedTracing,
  tracingOf,
} from '@alma-cache/local-aws';
import { asArray, logGroupArn, nxProject, packageTemplate, ssmParameterArn, tableArn, type Json, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template, checked against the contract: what osls would hand to AWS.

const BUILD_TIMEOUT_MS = 120_000;
const PACKAGE_TIMEOUT_MS = 120_000;
const names = namesFor('stg');
const LOG_GROUP_ARN = logGroupArn(names.function);
const SSM_PARAMETER_ARN = ssmParameterArn;
const TABLE_ARN = tableArn;
/** The producer output a value defaults to (`${cf:…}`, handed over as overrides: see producerOutputEnv). */
const imported = (name: Parameters<typeof names.imported>[0], stage: 'stg' | 'prod' = 'stg') => producerOutputs(stage)[name];

/** Lookups into one packaged template. */
const inspect = (template: Template) => {
  const resourcesOfType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const only = (type: string) => {
    const found = resourcesOfType(type);
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0];
  };
  const fn = () => only('AWS::Lambda::Function')[1].Properties ?? {};
  /** Every (action, resource) pair a role allows, resources written as their CloudFormation JSON. */
  const grantsOf = (roleId: string): string[] =>
    rolePolicies(template.Resources[roleId].Properties?.['Policies'], tracingActive(template))
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((resource) => `${action} ${JSON.stringify(resource)}`));
      })
      .sort();
  const roleId = (): string => {
    const sub = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(String((fn()['Role'] as Record<string, Json>)['Fn::Sub']));
    if (!sub) throw new Error(`unexpected Role: ${JSON.stringify(fn()['Role'])}`);
    return sub[1];
  };
  return { resourcesOfType, only, fn, grantsOf, roleId };
};

describe('Template: query-api serverless.yml', () => {
  let workDir: string;
  let bundleDir: string;
  let template: Template;
  let t: ReturnType<typeof inspect>;

  const packageStack = async (stage: 'stg' | 'prod', extraEnv: Record<string, string> = jwtEnv(stage)): Promise<Template> => {
    const packageDir = join(workDir, `package-${stage}-${Object.keys(extraEnv).length}`);
    const env = childEnv({ ...producerOutputEnv(stage), QUERY_API_ARTIFACT_DIR: bundleDir, ...extraEnv });
    return packageTemplate(APP, stage, packageDir, env, PACKAGE_TIMEOUT_MS);
  };

  beforeAll(async () => {
    // Prepare: bundle the real handler and package offline into folders of our own, so a deploy building dist/ at
    // the same time cannot interfere.
    workDir = mkdtempSync(join(tmpdir(), 'query-api-template-'));
    bundleDir = join(workDir, 'bundles');
    const build = await runNode(['tools/scripts/bundle-lambdas.mjs', '--app', APP, '--out', bundleDir, FUNCTION], childEnv({}), BUILD_TIMEOUT_MS);
    if (build.code !== 0) throw new Error(`bundle-lambdas failed (exit ${build.code}):\n${tail(build.output)}`);

    // Act: only the required JWT settings, as the cache-update-first deploy runs
    template = await packageStack('stg');
    t = inspect(template);
  }, BUILD_TIMEOUT_MS + PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('looks for the bundle where the Nx build target writes it, and keeps the local token code out of it', () => {
    // Prepare
    const project = nxProject('query-api');
    const serverlessYml = readFileSync(join(APP_DIR, 'serverless.yml'), 'utf8');
    const bundle = readFileSync(join(bundleDir, FUNCTION, 'index.js'), 'utf8');

    // Assess
    expect(project.tags).toEqual(['type:app']);
    expect(project.targets['build'].outputs).toEqual([`{workspaceRoot}/${DIST}`]);
    expect(project.targets['build'].options.command).toContain(`--out ${DIST} ${FUNCTION}`);
    expect(project.targets['deploy'].options.command).toContain(`sls.mjs deploy --app ${APP}`);
    expect(serverlessYml).toContain(`artifactDir: \${env:QUERY_API_ARTIFACT_DIR, '../../${DIST}'}`);
    expect(existsSync(join(bundleDir, `${FUNCTION}.zip`))).toBe(true);
    expect(bundle).not.toMatch(/mintLocalToken|verifyLocalToken|alma-cache-local/);
  });

  it('maps exactly the route table, each behind the JWT authorizer with the scopes of its action, and no catch-all', () => {
    // Assess
    const routes = t.resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties ?? {});
    const [authorizerId] = t.only('AWS::ApiGatewayV2::Authorizer');
    const [integrationId] = t.only('AWS::ApiGatewayV2::Integration');
    expect(routes.map((route) => route['RouteKey']).sort()).toEqual(QUERY_ROUTE_SPECS.map(routeKeyOf).sort());
    for (const spec of QUERY_ROUTE_SPECS) {
      const route = routes.find((candidate) => candidate['RouteKey'] === routeKeyOf(spec))!;
      expect({
        route: routeKeyOf(spec),
        auth: route['AuthorizationType'],
        authorizer: route['AuthorizerId'],
        scopes: route['AuthorizationScopes'],
      }).toEqual({
        route: routeKeyOf(spec),
        auth: 'JWT',
        authorizer: { Ref: authorizerId },
        scopes: scopesAllowing(spec.action),
      });
      expect(route['Target']).toEqual({ 'Fn::Join': ['/', ['integrations', { Ref: integrationId }]] });
    }
    expect(JSON.stringify(routes)).not.toMatch(/\$default|\{proxy\+\}|ANY /);
    expect(scopesAllowing('refresh')).toEqual([QUERY_SCOPES.admin]);
  });

  it("checks tokens with a JWT authorizer on the Authorization header, for the stage's issuer and audience", () => {
    // Assess
    const [, authorizer] = t.only('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties).toEqual({
      ApiId: { Ref: 'HttpApi' },
      Name: 'jwt',
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com/stg', Audience: ['query-api-stg'] },
    });
  });

  it('orders each route after the invoke permission, never with a DependsOn its Target already implies (moto refuses it)', () => {
    // Assess
    const routes = t.resourcesOfType('AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(8);
    for (const [id, route] of routes) {
      expect({ id, dependsOn: (route as { DependsOn?: unknown }).DependsOn }).toEqual({ id, dependsOn: ['QueryDashapiLambdaPermissionHttpApi'] });
    }
  });

  it('calls the function with payload 2.0 and lets only this API invoke it', () => {
    // Assess
    const [, integration] = t.only('AWS::ApiGatewayV2::Integration');
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', TimeoutInMillis: 30000 });
    const [, permission] = t.only('AWS::Lambda::Permission');
    expect(permission.Properties).toMatchObject({ Principal: 'apigateway.amazonaws.com', Action: 'lambda:InvokeFunction' });
    expect(JSON.stringify(permission.Properties?.['SourceArn'])).toContain('{"Ref":"HttpApi"},"/*"');
  });

  it('keeps the function log and the access log 30 days, and throttles the stage', () => {
    // Assess
    const logGroups = Object.fromEntries(
      t.resourcesOfType('AWS::Logs::LogGroup').map(([, r]) => [r.Properties?.['LogGroupName'], r.Properties?.['RetentionInDays']]),
    );
    expect(logGroups).toEqual({ [`/aws/lambda/${names.function}`]: 30, [`/aws/http-api/${names.stack}`]: 30 });
    const [, stage] = t.only('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties?.['DefaultRouteSettings']).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const format = JSON.parse(String((stage.Properties?.['AccessLogSettings'] as { Format: string }).Format)) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', authorizerError: '$context.authorizer.error' });
  });

  it('alarms on any error or throttle of the function (the stage throttle answers 429 itself; a Lambda throttle is a 5xx), notifying no topic unless one is set', () => {
    // Assess: packaged without ALARM_TOPIC_ARN_STG, so the parameter defaults to '' and the condition is false
    const [functionId] = t.only('AWS::Lambda::Function');
    expect(alarmsOf(template.Resources)).toEqual(
      [
        ...functionAlarms('QueryApi', names.function, functionId),
        httpApi5xxAlarm(names.stack),
        metricAlarm({
          id: 'HttpApiLatencyAlarm',
          name: `${names.stack}-http-p99-latency`,
          metric: 'AWS/ApiGateway/Latency',
          statistic: undefined,
          extendedStatistic: 'p99',
          dimensions: HTTP_API_STAGE_DIMENSIONS,
          period: 300,
          evaluationPeriods: 3,
          threshold: 3000,
          comparison: 'GreaterThanThreshold',
        }),
        metricAlarm({
          id: 'QueryAlmaThrottledAlarm',
          name: `${names.stack}-alma-throttled`,
          metric: 'AlmaCache/AlmaThrottled',
          statistic: 'Sum',
          dimensions: [{ Name: 'service', Value: 'alma-cache-query' }],
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

  it('runs one function on nodejs22.x arm64, timing out before API Gateway does, with the cache, queue and Alma settings', () => {
    // Assess
    const fn = t.fn();
    expect({ name: fn['FunctionName'], runtime: fn['Runtime'], handler: fn['Handler'], arch: fn['Architectures'], timeout: fn['Timeout'] }).toEqual({
      name: names.function,
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      arch: ['arm64'],
      timeout: 20,
    });
    expect(fn['ReservedConcurrentExecutions']).toBeUndefined();
    expect(String((fn['Code'] as { S3Key: string }).S3Key)).toMatch(/\/query-api\.zip$/);
    expect((fn['Environment'] as { Variables: Json }).Variables).toEqual({
      USER_CACHE_TABLE_NAME: imported('UsersTableName'),
      LOAN_CACHE_TABLE_NAME: imported('LoansTableName'),
      REQUEST_CACHE_TABLE_NAME: imported('RequestsTableName'),
      FEE_CACHE_TABLE_NAME: imported('FeesTableName'),
      USER_QUEUE_URL: imported('UsersQueueUrl'),
      USER_REFRESH_CLAIM_TABLE_NAME: imported('UserRefreshClaimsTableName'),
      ALMA_GUARD_TABLE_NAME: imported('AlmaGuardTableName'),
      ALMA_CALLS_PER_SECOND: '10',
      ALMA_API_BASE_URL: 'https://api-eu.hosted.exlibrisgroup.com',
      ALMA_API_KEY_NAME: names.defaultApiKeyName,
      QUERY_LOG_PEPPER_NAME: names.defaultLogPepperName,
      QUERY_ALLOWED_CLIENT_IDS: '',
      QUERY_PATRON_ID_CLAIM: '',
      POWERTOOLS_SERVICE_NAME: 'alma-cache-query',
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
  });

  it('gives the function its own role with exactly what it does: read the 4 tables, rebuild a missed patron as update-user does, claim, count Alma calls, queue refreshes, read the key and the log pepper', () => {
    // Assess
    expect(t.resourcesOfType('AWS::IAM::Role')).toHaveLength(1);
    expect(t.resourcesOfType('AWS::IAM::Policy')).toHaveLength(0);
    expect(t.resourcesOfType('AWS::IAM::ManagedPolicy')).toHaveLength(0);
    const role = template.Resources[t.roleId()].Properties ?? {};
    expect(role['ManagedPolicyArns']).toBeUndefined();
    expect(role['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const grant = (action: string, resource: Json) => `${action} ${JSON.stringify(resource)}`;
    const tables = (['UsersTableName', 'LoansTableName', 'RequestsTableName', 'FeesTableName'] as const).map((name) => TABLE_ARN(imported(name)));
    const [users, ...records] = tables;
    const [claims, guard] = [TABLE_ARN(imported('UserRefreshClaimsTableName')), TABLE_ARN(imported('AlmaGuardTableName'))];
    const grants = t.grantsOf(t.roleId());
    expect(grants).toEqual(
      [
        grant('logs:CreateLogStream', { 'Fn::Sub': LOG_GROUP_ARN }),
        grant('logs:PutLogEvents', { 'Fn::Sub': LOG_GROUP_ARN }),
        ...tables.flatMap((table) => [grant('dynamodb:GetItem', table), grant('dynamodb:BatchGetItem', table)]),
        // The miss's inline RefreshUser: the update-user function's writes, no more.
        grant('dynamodb:PutItem', users),
        grant('dynamodb:DeleteItem', users),
        ...records.map((table) => grant('dynamodb:PutItem', table)),
        // The webhooks' refresh claim: take it, mark its queued refresh sent.
        grant('dynamodb:PutItem', claims),
        grant('dynamodb:UpdateItem', claims),
        // The stage's Alma budget and the negative cache.
        grant('dynamodb:GetItem', guard),
        grant('dynamodb:PutItem', guard),
        grant('dynamodb:UpdateItem', guard),
        grant('sqs:SendMessage', imported('UsersQueueArn')),
        grant('ssm:GetParameter', SSM_PARAMETER_ARN(names.defaultApiKeyName)),
        grant('ssm:GetParameter', SSM_PARAMETER_ARN(names.defaultLogPepperName)),
      ].sort(),
    );
    // The guard table only under the keys the query API uses (dynamodb-alma-guard.ts): not the bulk refresh's share.
    const policies = (role['Policies'] ?? []) as { PolicyDocument: { Statement: { Sid?: string; Condition?: unknown }[] } }[];
    const guardStatements = policies.flatMap((policy) => policy.PolicyDocument.Statement).filter((statement) => statement.Sid === 'AlmaGuard');
    expect(guardStatements.map((statement) => statement.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate/query/*', 'rate/caller/*', 'unknown/*'] } },
    ]);
    for (const line of grants) {
      const [action, resource] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      expect(action).not.toContain('*');
      expect(resource.replace(LOG_GROUP_ARN, '')).not.toContain('*');
    }
  });

  it('exports the API URL for the other stacks and apps', () => {
    // Assess
    expect(template.Outputs['QueryApiUrl'].Export?.Name).toBe('alma-cache-stg-QueryApiUrl');
  });

  it(
    'takes the tables, the Users queue and the API key name from the environment when given, importing nothing',
    async () => {
      // Prepare
      const given = {
        USER_CACHE_TABLE_NAME_STG: 'legacy-users',
        LOAN_CACHE_TABLE_NAME_STG: 'legacy-loans',
        REQUEST_CACHE_TABLE_NAME_STG: 'legacy-requests',
        FEE_CACHE_TABLE_NAME_STG: 'legacy-fees',
        USER_QUEUE_URL_STG: 'https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-users',
        USER_QUEUE_ARN_STG: 'arn:aws:sqs:eu-west-1:123456789012:legacy-users',
        ALMA_API_KEY_NAME: '/legacy/alma-key',
        QUERY_LOG_PEPPER_NAME: '/legacy/log-pepper',
        QUERY_ALLOWED_CLIENT_IDS_STG: 'library-app,patron-app',
        QUERY_PATRON_ID_CLAIM_STG: 'primary_id',
      };

      // Act
      const overridden = await packageStack('stg', { ...jwtEnv('stg'), ...given });

      // Assess
      const o = inspect(overridden);
      expect(JSON.stringify(overridden)).not.toContain('Fn::ImportValue');
      expect((o.fn()['Environment'] as { Variables: Record<string, Json> }).Variables).toMatchObject({
        USER_CACHE_TABLE_NAME: 'legacy-users',
        FEE_CACHE_TABLE_NAME: 'legacy-fees',
        USER_QUEUE_URL: given.USER_QUEUE_URL_STG,
        ALMA_API_KEY_NAME: '/legacy/alma-key',
        QUERY_LOG_PEPPER_NAME: '/legacy/log-pepper',
        QUERY_ALLOWED_CLIENT_IDS: 'library-app,patron-app',
        QUERY_PATRON_ID_CLAIM: 'primary_id',
      });
      const grants = o.grantsOf(o.roleId());
      expect(grants).toContain(`sqs:SendMessage ${JSON.stringify(given.USER_QUEUE_ARN_STG)}`);
      expect(grants).toContain(`dynamodb:BatchGetItem ${JSON.stringify(TABLE_ARN('legacy-fees'))}`);
      expect(grants).toContain(`ssm:GetParameter ${JSON.stringify(SSM_PARAMETER_ARN('/legacy/alma-key'))}`);
      expect(grants).toContain(`ssm:GetParameter ${JSON.stringify(SSM_PARAMETER_ARN('/legacy/log-pepper'))}`);
    },
    PACKAGE_TIMEOUT_MS,
  );

  it(
    "uses prod's issuer and audience and the prod exports for stage prod",
    async () => {
      // Act
      const prod = await packageStack('prod');

      // Assess
      const text = JSON.stringify(prod);
      expect(text).not.toMatch(/alma-cache-stg|alma-cache-query-stg|issuer\.example\.com\/stg/);
      expect(text).toContain(JSON.stringify(imported('FeesTableName', 'prod')));
      const [, authorizer] = inspect(prod).only('AWS::ApiGatewayV2::Authorizer');
      expect(authorizer.Properties?.['JwtConfiguration']).toEqual({ Issuer: 'https://issuer.example.com/prod', Audience: ['query-api-prod'] });
    },
    PACKAGE_TIMEOUT_MS,
  );

  it("refuses to package without the stage's issuer and audience, naming both, before osls runs", async () => {
    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'prod', '--package-dir', join(workDir, 'no-jwt')],
      childEnv(jwtEnv('stg')),
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('missing environment variables for stage prod: QUERY_API_JWT_AUDIENCE_PROD, QUERY_API_JWT_ISSUER_PROD');
    expect(result.output).not.toContain('Packaging');
  });

  it('traces with X-Ray per stage (PassThrough for stg unless TRACING_STG=Active), every role listing the X-Ray grant that follows it', () => {
    // Assess
    expect(tracingOf(template)).toEqual(expectedTracing(template, 'PassThrough'));
  });

  it('refuses a stage other than stg and prod before osls runs', async () => {
    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', APP, '--stage', 'dev', '--package-dir', join(workDir, 'dev')],
      childEnv(jwtEnv('stg')),
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('stage "dev" is not allowed: the only stages are stg and prod');
    expect(result.output).not.toContain('Packaging');
  });
});
