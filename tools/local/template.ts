import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProvisionedResources } from '@alma-cache/local-aws';

/** What the local run needs to know about one deployed function, read from the packaged template. */
export interface TemplateFunction {
  /** The serverless.yml function name, e.g. `loan-updated`. */
  name: string;
  logicalId: string;
  /** The SNS topic names it is subscribed to, e.g. `LOAN_CREATED`: directly, or through a queue it consumes. */
  topics: string[];
  /** For the topics delivered to a queue it consumes (raw, SNS → SQS → Lambda): topic name → that queue's URL. */
  topicQueues: Record<string, string>;
  /** The URLs of the SQS queues it consumes (its event source mappings). */
  queues: string[];
  /** The DynamoDB table streams it consumes (its stream event source mappings), with their retry settings. */
  streams: TemplateStreamMapping[];
  /** Environment with the template's Refs resolved to the locally provisioned names. */
  environment: Record<string, string>;
}

/** One DynamoDB stream event source mapping, as the local dispatcher honours it. */
export interface TemplateStreamMapping {
  streamArn: string;
  batchSize: number;
  /** Retries of a failed batch before Lambda gives up on it; -1 (CloudFormation's default) retries until the records expire. */
  maximumRetryAttempts: number;
  /** Logical id of the SQS queue that gets the description of a batch given up on. */
  onFailureQueue?: string;
}

/**
 * What the local run provisioned, by logical id: the tables and queues of `provisionFromTemplate`, and what it
 * adds itself: the topics (logical id -> topic ARN) and the tables' stream ARNs (table logical id -> stream ARN).
 */
export interface LocalResources extends ProvisionedResources {
  topics?: Record<string, string>;
  streams?: Record<string, string>;
}

type Json = Record<string, any>;

/** Reads `.serverless/cloudformation-template-update-stack.json` of an app, with a clear error if it was not packaged. */
export const readPackagedTemplate = (appDir: string, packageDir = join(appDir, '.serverless')): Json => {
  const file = join(packageDir, 'cloudformation-template-update-stack.json');
  if (!existsSync(file)) throw new Error(`No packaged template at ${file}: run \`npx nx run <app>:package\` first.`);
  return JSON.parse(readFileSync(file, 'utf8'));
};

/** CloudFormation exports by name, as another stack's `Fn::ImportValue` sees them. */
export type StackExports = Record<string, string>;

const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
/** The ARN a queue has on the emulators, from its URL (`…/<account>/<name>`). */
export const queueArn = (queueUrl: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.split('/').pop()}`;

const resolveValue = (value: unknown, provisioned: LocalResources, imports: StackExports, where: string): string => {
  if (typeof value === 'string') return value;
  const ref = (value as Json | undefined)?.['Ref'];
  if (typeof ref === 'string') {
    const resolved = provisioned.tables[ref] ?? provisioned.queues[ref] ?? provisioned.topics?.[ref];
    if (resolved) return resolved;
  }
  const getAtt = logicalIdOf(value);
  if (getAtt && attributeOf(value) === 'StreamArn' && provisioned.streams?.[getAtt]) return provisioned.streams[getAtt];
  if (getAtt && provisioned.queues[getAtt]) return queueArn(provisioned.queues[getAtt]);
  const imported = (value as Json | undefined)?.['Fn::ImportValue'];
  if (typeof imported === 'string' && imports[imported] !== undefined) return imports[imported];
  throw new Error(
    `${where}: cannot resolve ${JSON.stringify(value)} locally (supported: Refs to tables, queues and topics, queue and stream ARNs, and imports of ${Object.keys(imports).join(', ') || 'no exports'})`,
  );
};

/**
 * The Outputs of a template that carry an export, resolved to the locally provisioned names: what a later stack
 * imports with `Fn::ImportValue`.
 */
export const templateExports = (template: Json, provisioned: LocalResources): StackExports =>
  Object.fromEntries(
    Object.entries((template['Outputs'] ?? {}) as Record<string, Json>)
      .filter(([, output]) => typeof output['Export']?.['Name'] === 'string')
      .flatMap(([id, output]) => {
        try {
          return [[output['Export']['Name'] as string, resolveValue(output['Value'], provisioned, {}, `Outputs.${id}`)]];
        } catch {
          // Outputs of resources the emulators do not provision are simply not importable here.
          return [];
        }
      }),
  );

/** A function's serverless.yml name, from its deployed name `<service>-<stage>-<name>`. */
const shortFunctionName = (functionName: unknown): string => String(functionName).replace(/^.*?-(stg|prod)-/, '');

const logicalIdOf = (value: unknown): string | undefined => {
  const getAtt = (value as Json | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
};

const attributeOf = (value: unknown): string | undefined => {
  const getAtt = (value as Json | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) ? String(getAtt[1]) : undefined;
};

/**
 * The SNS topics a template creates (`AWS::SNS::Topic` with a literal `TopicName`), by logical id: the emulators'
 * provisioning leaves topics out, so the local run creates these itself.
 *
 * @example
 * templateTopics(template); // { CacheChangesTopic: 'alma-cache-stg-cache-changes' }
 */
export const templateTopics = (template: Json): Record<string, string> =>
  Object.fromEntries(
    Object.entries(template['Resources'] as Record<string, Json>)
      .filter(([, resource]) => resource['Type'] === 'AWS::SNS::Topic')
      .map(([logicalId, resource]) => {
        const name = resource['Properties']?.['TopicName'];
        if (typeof name !== 'string') throw new Error(`${logicalId}: a topic without a literal TopicName cannot be created locally`);
        return [logicalId, name];
      }),
  );

/**
 * The template's Lambda functions with their topics, environment and async settings, so the local run wires
 * exactly what a deployment wires.
 *
 * @example
 * const functions = templateFunctions(readPackagedTemplate('apps/sns-lambdas'), provisioned);
 */
export const templateFunctions = (template: Json, provisioned: LocalResources, imports: StackExports = {}): TemplateFunction[] => {
  const resources = template['Resources'] as Record<string, Json>;
  const entries = Object.entries(resources);
  return entries
    .filter(([, resource]) => resource['Type'] === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const properties = resource['Properties'] as Json;
      const name = shortFunctionName(properties['FunctionName']);
      const variables = (properties['Environment']?.['Variables'] ?? {}) as Record<string, unknown>;
      const environment = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, resolveValue(value, provisioned, imports, `${logicalId}.Environment.${key}`)]),
      );
      const queueUrlsByArn = new Map(Object.values(provisioned.queues).map((url) => [queueArn(url), url]));
      const mappings = entries
        .filter(
          ([, mapping]) =>
            mapping['Type'] === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(mapping['Properties']['FunctionName']).includes(logicalId),
        )
        .map(([id, mapping]) => ({
          arn: resolveValue(mapping['Properties']['EventSourceArn'], provisioned, imports, `${id}.EventSourceArn`),
          properties: mapping['Properties'] as Json,
        }));
      const queues = mappings
        .filter(({ arn }) => arn.startsWith('arn:aws:sqs:'))
        .map(({ arn }) => {
          const url = queueUrlsByArn.get(arn);
          if (!url) throw new Error(`${logicalId}: consumes ${arn}, which was not provisioned locally`);
          return url;
        });
      const knownStreams = new Set(Object.values(provisioned.streams ?? {}));
      const streams = mappings
        .filter(({ arn }) => arn.startsWith('arn:aws:dynamodb:'))
        .map(({ arn, properties }) => {
          if (!knownStreams.has(arn))
            throw new Error(`${logicalId}: consumes the stream ${arn}, which is not a stream of a locally provisioned table`);
          return {
            streamArn: arn,
            // CloudFormation's defaults for a stream mapping.
            batchSize: Number(properties['BatchSize'] ?? 100),
            maximumRetryAttempts: Number(properties['MaximumRetryAttempts'] ?? -1),
            onFailureQueue: logicalIdOf(properties['DestinationConfig']?.['OnFailure']?.['Destination']),
          };
        });
      const topicName = (sub: Json) => String(sub['Properties']['TopicArn']).split(':').pop() as string;
      const subscriptions = entries.filter(([, sub]) => sub['Type'] === 'AWS::SNS::Subscription').map(([, sub]) => sub);
      const consumed = new Set(queues);
      const topicQueues = Object.fromEntries(
        subscriptions.flatMap((sub) => {
          const queueId = logicalIdOf(sub['Properties']['Endpoint']);
          const url = queueId === undefined ? undefined : provisioned.queues[queueId];
          return url !== undefined && consumed.has(url) ? [[topicName(sub), url] as const] : [];
        }),
      );
      const topics = [
        ...subscriptions.filter((sub) => logicalIdOf(sub['Properties']['Endpoint']) === logicalId).map(topicName),
        ...Object.keys(topicQueues),
      ];
      return {
        name,
        logicalId,
        topics,
        topicQueues,
        queues,
        streams,
        environment,
      };
    });
};

/** One route of a packaged HTTP API, with the function it invokes and the JWT scopes it requires (if any). */
export interface TemplateRoute {
  method: string;
  path: string;
  /** The serverless.yml function name the route's integration invokes. */
  functionName: string;
  /** `AuthorizationType: JWT`: a token is required, holding one of `scopes` when any are listed. */
  auth: boolean;
  scopes: string[];
}

/**
 * The HTTP API routes of a packaged template (`AWS::ApiGatewayV2::Route`), resolved to the functions their
 * integrations invoke, so the local HTTP server serves exactly the routes a deployment creates.
 */
export const templateRoutes = (template: Json): TemplateRoute[] => {
  const resources = template['Resources'] as Record<string, Json>;
  const functionNameOf = (logicalId: string): string => shortFunctionName(resources[logicalId]?.['Properties']?.['FunctionName'] ?? logicalId);
  return Object.entries(resources)
    .filter(([, resource]) => resource['Type'] === 'AWS::ApiGatewayV2::Route')
    .map(([id, resource]) => {
      const properties = resource['Properties'] as Json;
      const [method, path] = String(properties['RouteKey']).split(' ');
      const integrationId = JSON.stringify(properties['Target']).match(/"Ref":"([^"]+)"/)?.[1];
      const integration = integrationId ? resources[integrationId] : undefined;
      const functionId = logicalIdOf(integration?.['Properties']?.['IntegrationUri']);
      if (!functionId) throw new Error(`${id}: cannot find the function behind route ${properties['RouteKey']}`);
      return {
        method,
        path,
        functionName: functionNameOf(functionId),
        auth: properties['AuthorizationType'] === 'JWT',
        scopes: (properties['AuthorizationScopes'] as string[] | undefined) ?? [],
      };
    });
};
