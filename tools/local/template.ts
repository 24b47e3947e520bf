import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProvisionedResources } from '@alma-cache/local-aws';

/** What the local run needs to know about one deployed function, read from the packaged template. */
export interface TemplateFunction {
  /** The serverless.yml function name, e.g. `loan-updated`. */
  name: string;
  logicalId: string;
  /** The SNS topic names it is subscribed to, e.g. `LOAN_CREATED`. */
  topics: string[];
  /** Environment with the template's Refs resolved to the locally provisioned names. */
  environment: Record<string, string>;
  maximumRetryAttempts: number;
  /** Logical id of the SQS queue of its on-failure destination. */
  onFailureQueue?: string;
}

type Json = Record<string, any>;

/** Reads `.serverless/cloudformation-template-update-stack.json` of an app, with a clear error if it was not packaged. */
export const readPackagedTemplate = (appDir: string, packageDir = join(appDir, '.serverless')): Json => {
  const file = join(packageDir, 'cloudformation-template-update-stack.json');
  if (!existsSync(file)) throw new Error(`No packaged template at ${file}: run \`npx nx run sns-lambdas:package\` first.`);
  return JSON.parse(readFileSync(file, 'utf8'));
};

const resolveValue = (value: unknown, provisioned: ProvisionedResources, where: string): string => {
  if (typeof value === 'string') return value;
  const ref = (value as Json | undefined)?.['Ref'];
  if (typeof ref === 'string') {
    const resolved = provisioned.tables[ref] ?? provisioned.queues[ref];
    if (resolved) return resolved;
  }
  throw new Error(`${where}: cannot resolve ${JSON.stringify(value)} locally (only Refs to tables and queues are supported)`);
};

const logicalIdOf = (value: unknown): string | undefined => {
  const getAtt = (value as Json | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
};

/**
 * The template's Lambda functions with their topics, environment and async settings, so the local run wires
 * exactly what a deployment wires.
 *
 * @example
 * const functions = templateFunctions(readPackagedTemplate('apps/sns-lambdas'), provisioned);
 */
export const templateFunctions = (template: Json, provisioned: ProvisionedResources): TemplateFunction[] => {
  const resources = template['Resources'] as Record<string, Json>;
  const entries = Object.entries(resources);
  return entries
    .filter(([, resource]) => resource['Type'] === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const properties = resource['Properties'] as Json;
      const name = String(properties['FunctionName']).replace(/^.*?-(stg|prod)-/, '');
      const variables = (properties['Environment']?.['Variables'] ?? {}) as Record<string, unknown>;
      const environment = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, resolveValue(value, provisioned, `${logicalId}.Environment.${key}`)]),
      );
      const topics = entries
        .filter(([, sub]) => sub['Type'] === 'AWS::SNS::Subscription' && logicalIdOf(sub['Properties']['Endpoint']) === logicalId)
        .map(([, sub]) => String(sub['Properties']['TopicArn']).split(':').pop() as string);
      const invokeConfig = entries.find(
        ([, config]) => config['Type'] === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(config['Properties']['FunctionName']).includes(logicalId),
      )?.[1]?.['Properties'];
      return {
        name,
        logicalId,
        topics,
        environment,
        maximumRetryAttempts: invokeConfig?.['MaximumRetryAttempts'] ?? 2,
        onFailureQueue: logicalIdOf(invokeConfig?.['DestinationConfig']?.['OnFailure']?.['Destination']),
      };
    });
};
