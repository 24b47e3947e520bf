'use strict';
// osls plugin shared by every app with functions (plugins: { localPath: ../../tools/serverless, modules: [shared-resources] }),
// so that each serverless.yml names only what is its own and the packaged template is the same as the long form.
//
// While osls loads the plugins (serverless.extendConfiguration, so `print` shows them too), each unless the app sets it:
// - provider: PROVIDER_DEFAULTS below, tracing.lambda from custom.tracing (tools/serverless/tracing.yml), and
//   versionFunctions false (always); package.individually.
// - every function: handler index.handler (tools/scripts/bundle-lambdas.mjs writes index.js), artifact
//   ${self:custom.artifactDir}/<fn>.zip, and role <Fn>Role (custom.functionRoles), written as Fn::Sub: given a logical id
//   or Fn::GetAtt, osls also adds the role to DependsOn, which cfn-lint (W3005) and moto's ValidateTemplate reject.
// Just before osls merges `resources` into the template (before:package:finalize):
// - custom.functionRoles: { <fn>: [statements] }: role <Fn>Role for that function, trusted by Lambda only, with the
//   stage's X-Ray grant (custom.tracing.rolePolicy) and a policy named after the function whose first statement lets it
//   write to its own log group (osls creates the group). Effect defaults to Allow; `Resource: { table: <name> }` stands
//   for that DynamoDB table's ARN. Every function needs an entry: none gets osls's shared default role.
// - custom.functionAlarms: { errors, throttles }: alarms <Fn>ErrorsAlarm and <Fn>ThrottlesAlarm (<function name>-errors,
//   -throttles) on every function, any error or throttle in 5 minutes; `{fn}` in a description is the function's key.
// - custom.alarms: { <LogicalId>: { name, description, <shorthand>: <logical id>, ...CloudFormation overrides } }.
//   Shorthands: queueDepth / queueAge (SQS queue), functionErrors / functionThrottles (Lambda function). Any key
//   starting with a capital letter is an AWS::CloudWatch::Alarm property and wins over the defaults (5-minute period,
//   one evaluation period, > 0, missing data not breaching). Every alarm notifies the AlarmTopicArn parameter when it is
//   set (condition HasAlarmTopic), which this plugin adds too, from custom.alarmTopicArn.
// - custom.tracing: the TracingMode parameter and the TracingActive condition.

const PROVIDER_DEFAULTS = {
  runtime: 'nodejs22.x',
  // Graviton: about 20% cheaper per GB-second than x86_64; the bundles are plain JavaScript with no native modules.
  architecture: 'arm64',
  memorySize: 256,
  logRetentionInDays: 30,
  // CreateStack/UpdateStack straight away: nobody reviews change sets, and moto reports stack outputs only this way.
  deploymentMethod: 'direct',
};
const QUEUE_AGE_THRESHOLD_SECONDS = 172800; // 2 days: time to redrive before the queues' 14-day retention drops a message

const pascalCase = (fn) => fn.replace(/(^|-)([a-z0-9])/g, (_, __, letter) => letter.toUpperCase());

const queueMetric = (metricName) => (queue) => ({
  Namespace: 'AWS/SQS',
  MetricName: metricName,
  Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
  Statistic: 'Maximum',
});
const functionMetric = (metricName) => (fn) => ({
  Namespace: 'AWS/Lambda',
  MetricName: metricName,
  Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
  Statistic: 'Sum',
});
const SHORTHANDS = {
  queueDepth: queueMetric('ApproximateNumberOfMessagesVisible'),
  queueAge: (queue) => ({ ...queueMetric('ApproximateAgeOfOldestMessage')(queue), Threshold: QUEUE_AGE_THRESHOLD_SECONDS }),
  functionErrors: functionMetric('Errors'),
  functionThrottles: functionMetric('Throttles'),
};

const alarmOf = (logicalId, spec) => {
  const shorthands = Object.keys(spec).filter((key) => key in SHORTHANDS);
  const overrides = Object.fromEntries(Object.entries(spec).filter(([key]) => /^[A-Z]/.test(key)));
  const unknown = Object.keys(spec).filter((key) => !/^[A-Z]/.test(key) && !(key in SHORTHANDS) && key !== 'name' && key !== 'description');
  if (unknown.length > 0 || shorthands.length > 1) {
    throw new Error(`custom.alarms.${logicalId}: unknown keys ${unknown.join(', ') || '(none)'}, shorthands ${shorthands.join(', ') || '(none)'}`);
  }
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: spec.name,
      AlarmDescription: spec.description,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      ...(shorthands.length === 1 ? SHORTHANDS[shorthands[0]](spec[shorthands[0]]) : {}),
      ...overrides,
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    },
  };
};

// custom.functionAlarms: an errors and a throttles alarm per function, named after the function.
const functionAlarmsOf = (service, naming, { errors, throttles }) =>
  service.getAllFunctions().flatMap((fn) => {
    const [id, name, lambda] = [pascalCase(fn), service.getFunction(fn).name, naming.getLambdaLogicalId(fn)];
    const describe = (text) => text.replaceAll('{fn}', fn);
    return [
      [`${id}ErrorsAlarm`, { name: `${name}-errors`, description: describe(errors), functionErrors: lambda }],
      [`${id}ThrottlesAlarm`, { name: `${name}-throttles`, description: describe(throttles), functionThrottles: lambda }],
    ];
  });

// Effect defaults to Allow; `Resource: { table: <name> }` is the ARN of the named DynamoDB table in this account and region.
const TABLE_ARN = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}';
const resourceOf = (resource) =>
  resource && typeof resource === 'object' && Object.keys(resource).join() === 'table'
    ? { 'Fn::Sub': [TABLE_ARN, { Table: resource.table }] }
    : resource;
const statementOf = ({ Effect = 'Allow', Resource, ...rest }) => ({
  ...rest,
  Effect,
  Resource: Array.isArray(Resource) ? Resource.map(resourceOf) : resourceOf(Resource),
});

const roleOf = (custom, fn, functionName, statements) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    Policies: [
      custom.tracing.rolePolicy,
      {
        PolicyName: fn,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'OwnLogGroup',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*` },
            },
            ...statements.map(statementOf),
          ],
        },
      },
    ],
  },
});

class SharedResources {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.expand() };
    this.extendDefaults();
  }

  extendDefaults() {
    const config = this.serverless.configurationInput ?? {};
    const functions = Object.keys(config.functions ?? {});
    if (functions.length === 0) return;
    const setDefault = (keys, value) => {
      const present = keys.reduce((node, key) => (node && typeof node === 'object' ? node[key] : undefined), config);
      if (present === undefined) this.serverless.extendConfiguration(keys, value);
    };
    for (const [key, value] of Object.entries(PROVIDER_DEFAULTS)) setDefault(['provider', key], value);
    // Always: the bundles are immutable zips and nothing points at a version, so no AWS::Lambda::Version per deploy.
    // (osls's own function compiler has set it to true by now when the app left it out.)
    this.serverless.extendConfiguration(['provider', 'versionFunctions'], false);
    if (config.custom?.tracing) setDefault(['provider', 'tracing', 'lambda'], '${self:custom.tracing.mode}');
    setDefault(['package', 'individually'], true);
    const roles = config.custom?.functionRoles ?? {};
    for (const fn of functions) {
      if (!(fn in roles) && config.functions[fn]?.role === undefined) throw new Error(`custom.functionRoles has no role for function ${fn}`);
      setDefault(['functions', fn, 'handler'], 'index.handler');
      setDefault(['functions', fn, 'role'], { 'Fn::Sub': `\${${pascalCase(fn)}Role.Arn}` });
      setDefault(['functions', fn, 'package', 'artifact'], `\${self:custom.artifactDir}/${fn}.zip`);
    }
  }

  expand() {
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    const custom = service.custom ?? {};
    service.resources = service.resources ?? {};
    const cfn = service.resources;
    cfn.Resources = cfn.Resources ?? {};
    const add = (section, id, value) => {
      cfn[section] = cfn[section] ?? {};
      if (id in cfn[section]) throw new Error(`${section}.${id} is written out in resources already`);
      cfn[section][id] = value;
    };
    for (const [fn, statements] of Object.entries(custom.functionRoles ?? {})) {
      add('Resources', `${pascalCase(fn)}Role`, roleOf(custom, fn, service.getFunction(fn).name, statements));
    }
    if (custom.tracing) {
      // The stage's tracing mode (custom.tracing.mode), a parameter so the roles' X-Ray grant can follow it.
      add('Parameters', 'TracingMode', {
        Type: 'String',
        Default: custom.tracing.mode,
        AllowedValues: ['Active', 'PassThrough'],
        Description: 'X-Ray tracing of the functions (TRACING_<STG|PROD> at deploy time; Active by default for prod only).',
      });
      add('Conditions', 'TracingActive', { 'Fn::Equals': [{ Ref: 'TracingMode' }, 'Active'] });
    }
    const alarms = [
      ...Object.entries(custom.alarms ?? {}),
      ...(custom.functionAlarms ? functionAlarmsOf(service, naming, custom.functionAlarms) : []),
    ];
    if (alarms.length === 0) return;
    for (const [id, spec] of alarms) add('Resources', id, alarmOf(id, spec));
    // A parameter rather than the literal: a condition comparing two literals is always true or false, which cfn-lint
    // (and moto) refuse.
    add('Parameters', 'AlarmTopicArn', {
      Type: 'String',
      Default: custom.alarmTopicArn ?? '',
      Description: 'SNS topic the alarms notify (ALARM_TOPIC_ARN_<STG|PROD> at deploy time); empty for none.',
    });
    add('Conditions', 'HasAlarmTopic', { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] });
  }
}

module.exports = SharedResources;
