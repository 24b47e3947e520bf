/** The alarm checks every app's template spec shares: one contract for the alarms of every stack. */

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}

/** An alarm as the specs compare it: the properties that decide when it fires and whom it tells. */
export interface AlarmSummary {
  readonly id: string;
  readonly name: Json;
  readonly metric: string;
  readonly statistic: Json;
  /** A percentile such as `p99` (ExtendedStatistic), for the alarms that have one instead of `statistic`. */
  readonly extendedStatistic?: Json;
  readonly dimensions: Json;
  readonly period: Json;
  readonly evaluationPeriods: Json;
  readonly threshold: Json;
  readonly comparison: Json;
  readonly treatMissingData: Json;
  readonly actions: Json;
}

/** The optional alarm topic, as every alarm names it: only when the stage has one (condition HasAlarmTopic). */
export const ALARM_ACTIONS = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };

/** The parameter holding the topic (its default is ALARM_TOPIC_ARN_<STAGE>) and the condition that tests it. */
export const alarmTopicSettings = (topicArn: string) => ({
  parameter: { Type: 'String', Default: topicArn, Description: expect.stringContaining('ALARM_TOPIC_ARN_') as unknown },
  condition: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] },
});

/**
 * Every `AWS::CloudWatch::Alarm` of a template, summarised and sorted by logical id.
 *
 * @example
 * expect(alarmsOf(template.Resources)).toEqual([queueAlarm(...), ...functionAlarms(...)].sort(byId));
 */
export const alarmsOf = (resources: Record<string, Resource>): AlarmSummary[] =>
  Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([id, { Properties: p = {} }]) => ({
      id,
      name: p['AlarmName'],
      metric: `${String(p['Namespace'])}/${String(p['MetricName'])}`,
      statistic: p['Statistic'],
      extendedStatistic: p['ExtendedStatistic'],
      dimensions: p['Dimensions'],
      period: p['Period'],
      evaluationPeriods: p['EvaluationPeriods'],
      threshold: p['Threshold'],
      comparison: p['ComparisonOperator'],
      treatMissingData: p['TreatMissingData'],
      actions: p['AlarmActions'],
    }))
    .sort(byId);

export const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

const FIRES_ON_ANY = { evaluationPeriods: 1, threshold: 0, comparison: 'GreaterThanThreshold', treatMissingData: 'notBreaching' } as const;

/** The alarm a DLQ or failure queue must have: any visible message over 5 minutes. */
export const queueAlarm = (id: string, name: string, queueId: string): AlarmSummary => ({
  id,
  name,
  metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
  statistic: 'Maximum',
  dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
  period: 300,
  ...FIRES_ON_ANY,
  actions: ALARM_ACTIONS,
});

/**
 * The alarm on how long the oldest message of a DLQ or failure queue has waited (Maximum over 5 minutes): for
 * messages left unattended, beside `queueAlarm` for any message at all.
 *
 * @example
 * queueAgeAlarm('FailureQueueAgeAlarm', 'alma-cache-stg-sns-lambdas-failures-message-age', 'FailureQueue', 172_800);
 */
export const queueAgeAlarm = (id: string, name: string, queueId: string, seconds: number): AlarmSummary => ({
  ...queueAlarm(id, name, queueId),
  metric: 'AWS/SQS/ApproximateAgeOfOldestMessage',
  threshold: seconds,
});

/**
 * Any other alarm, as its spec states it: missing data is not breaching and it notifies the optional alarm topic,
 * like every alarm of the stacks.
 *
 * @example
 * metricAlarm({ id: 'HttpApi5xxAlarm', name: 'alma-cache-query-stg-http-5xx', metric: 'AWS/ApiGateway/5xx', … });
 */
export const metricAlarm = (alarm: Omit<AlarmSummary, 'treatMissingData' | 'actions'>): AlarmSummary => ({
  ...alarm,
  treatMissingData: 'notBreaching',
  actions: ALARM_ACTIONS,
});

/** The dimensions of an HTTP API's `$default` stage metrics (namespace AWS/ApiGateway: `5xx`, `Latency`, …). */
export const HTTP_API_STAGE_DIMENSIONS = [
  { Name: 'ApiId', Value: { Ref: 'HttpApi' } },
  { Name: 'Stage', Value: '$default' },
] as const;

/**
 * The alarm every HTTP API stack has on its `$default` stage: 5 or more 5xx answers (Sum) in 5 minutes.
 *
 * @example
 * httpApi5xxAlarm('alma-cache-query-stg'); // { id: 'HttpApi5xxAlarm', name: 'alma-cache-query-stg-http-5xx', … }
 */
export const httpApi5xxAlarm = (stack: string): AlarmSummary =>
  metricAlarm({
    id: 'HttpApi5xxAlarm',
    name: `${stack}-http-5xx`,
    metric: 'AWS/ApiGateway/5xx',
    statistic: 'Sum',
    extendedStatistic: undefined,
    dimensions: HTTP_API_STAGE_DIMENSIONS,
    period: 300,
    evaluationPeriods: 1,
    threshold: 5,
    comparison: 'GreaterThanOrEqualToThreshold',
  });

/** The two alarms every function must have: any error, any throttle, summed over 5 minutes. */
export const functionAlarms = (idPrefix: string, namePrefix: string, functionId: string): AlarmSummary[] =>
  (['Errors', 'Throttles'] as const).map((metric) => ({
    id: `${idPrefix}${metric}Alarm`,
    name: `${namePrefix}-${metric.toLowerCase()}`,
    metric: `AWS/Lambda/${metric}`,
    statistic: 'Sum',
    dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
    period: 300,
    ...FIRES_ON_ANY,
    actions: ALARM_ACTIONS,
  }));

/** `loan-updated` → `LoanUpdated`, the prefix of the function's alarm ids. */
export const pascalCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase());
