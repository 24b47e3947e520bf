import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { StatusSource } from './status';

/** DescribeAlarms takes at most 100 names per call. */
const ALARM_NAMES_PER_CALL = 100;

interface TemplateResource {
  Type?: string;
  Properties?: Record<string, unknown>;
}

/** osls deploys JSON templates; anything else (a stack made by hand in YAML) declares no alarm this can read. */
const parseTemplateResources = (body: string | undefined): Record<string, TemplateResource | undefined> => {
  try {
    return (JSON.parse(body ?? '{}') as { Resources?: Record<string, TemplateResource> }).Resources ?? {};
  } catch {
    return {};
  }
};

/**
 * {@link StatusSource} over CloudFormation, CloudWatch and SQS; the endpoint comes from the SDK's own settings
 * (AWS_ENDPOINT_URL for an emulator).
 *
 * @example
 * const source = new AwsStatusSource({ region: 'eu-west-1' });
 */
export class AwsStatusSource implements StatusSource {
  private readonly cloudFormation: CloudFormationClient;
  private readonly cloudWatch: CloudWatchClient;
  private readonly sqs: SQSClient;

  constructor(config: { region: string }) {
    this.cloudFormation = new CloudFormationClient(config);
    this.cloudWatch = new CloudWatchClient(config);
    // An emulator's queue URLs may name the real AWS host: send to the configured endpoint instead.
    this.sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  }

  async describeStack(name: string) {
    try {
      const stack = (await this.cloudFormation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
      if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
      const outputs = Object.fromEntries((stack.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
      return { status: stack.StackStatus ?? 'UNKNOWN', outputs };
    } catch (error) {
      if (/does not exist/.test((error as Error).message)) return undefined;
      throw error;
    }
  }

  async stackResources(name: string, type: string) {
    const ids: string[] = [];
    for await (const page of paginateListStackResources({ client: this.cloudFormation }, { StackName: name })) {
      for (const resource of page.StackResourceSummaries ?? []) {
        if (resource.ResourceType === type && resource.PhysicalResourceId) ids.push(resource.PhysicalResourceId);
      }
    }
    return ids;
  }

  /**
   * The stack's alarms: the physical ids of its AWS::CloudWatch::Alarm resources, and the AlarmName of each one its
   * deployed template declares. In AWS both give the same names; moto 5.2.1 creates no alarm from a template (nor
   * lists one among the stack's resources), so there only the template names them, and an alarm missing from
   * CloudWatch is still counted, never in ALARM.
   */
  async alarmNames(name: string) {
    const names = new Set(await this.stackResources(name, 'AWS::CloudWatch::Alarm'));
    const { TemplateBody } = await this.cloudFormation.send(new GetTemplateCommand({ StackName: name, TemplateStage: 'Original' }));
    for (const resource of Object.values(parseTemplateResources(TemplateBody))) {
      const alarmName = resource?.Properties?.['AlarmName'];
      if (resource?.Type === 'AWS::CloudWatch::Alarm' && typeof alarmName === 'string') names.add(alarmName);
    }
    return [...names];
  }

  async alarmStates(names: readonly string[]) {
    const states: Record<string, string> = {};
    for (let start = 0; start < names.length; start += ALARM_NAMES_PER_CALL) {
      const page = await this.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(start, start + ALARM_NAMES_PER_CALL) }));
      for (const alarm of page.MetricAlarms ?? []) states[alarm.AlarmName ?? ''] = alarm.StateValue ?? 'UNKNOWN';
    }
    return states;
  }

  async queueDepth(queueUrl: string) {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) };
  }

  destroy(): void {
    for (const client of [this.cloudFormation, this.cloudWatch, this.sqs]) client.destroy();
  }
}
