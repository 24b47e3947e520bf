'use strict';
// osls plugin shared by every app's serverless.yml (plugins.localPath: ../../tools/serverless). It expands two compact
// lists into plain CloudFormation just before osls merges `resources` into the template, so each app names only what
// is its own and the packaged template is the same as if the long form were written out:
//
// - custom.alarms: { <LogicalId>: { name, description, <shorthand>: <logical id>, ...CloudFormation overrides } }
//   Shorthands: queueDepth / queueAge (SQS queue), functionErrors / functionThrottles (Lambda function). Any key
//   starting with a capital letter is an AWS::CloudWatch::Alarm property and wins over the defaults (5-minute period,
//   one evaluation period, > 0, missing data not breaching). Every alarm notifies the AlarmTopicArn parameter when it is
//   set (condition HasAlarmTopic), which this plugin adds too, from custom.alarmTopicArn.
// - custom.functionRoles: { <LogicalId>: { function, logGroup?, statements } }: an execution role for one function,
//   trusted by Lambda only, with the stage's X-Ray grant (custom.tracing.rolePolicy) and a policy named after the
//   function whose first statement lets it write to its own log group (osls creates the group). In `statements`,
//   Effect defaults to Allow and `Resource: { table: <name> }` stands for that DynamoDB table's ARN.
// - custom.tracing (tools/serverless/tracing.yml): the TracingMode parameter and the TracingActive condition.

const QUEUE_AGE_THRESHOLD_SECONDS = 172800; // 2 days: time to redrive before the queues' 14-day retention drops a message

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

const roleOf = (custom, spec) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    Policies: [
      custom.tracing.rolePolicy,
      {
        PolicyName: spec.function,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'OwnLogGroup',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: {
                'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${spec.logGroup ?? `${custom.functionPrefix}-${spec.function}`}:*`,
              },
            },
            ...(spec.statements ?? []).map(statementOf),
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
  }

  expand() {
    const { service } = this.serverless;
    const custom = service.custom ?? {};
    service.resources = service.resources ?? {};
    const cfn = service.resources;
    cfn.Resources = cfn.Resources ?? {};
    const add = (section, id, value) => {
      cfn[section] = cfn[section] ?? {};
      if (id in cfn[section]) throw new Error(`${section}.${id} is written out in resources already`);
      cfn[section][id] = value;
    };
    for (const [id, spec] of Object.entries(custom.functionRoles ?? {})) add('Resources', id, roleOf(custom, spec));
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
    const alarms = Object.entries(custom.alarms ?? {});
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
