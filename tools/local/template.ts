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
  /** The URLs of the SQS queues it consumes (its event source mappings). */
  queues: string[];
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
  if (!existsSync(file)) throw new Error(`No packaged template at ${file}: run \`npx nx run <app>:package\` first.`);
  return JSON.parse(readFileSync(file, 'utf8'));
};

/** CloudFormation exports by name, as another stack's `Fn::ImportValue` sees them. */
export type StackExports = Record<string, string>;

const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
/** The ARN a queue has on the emulators, from its URL (`…/<account>/<name>`). */
export const queueArn = (queueUrl: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.split('/').pop()}`;

const resolveValue = (value: unknown, provisioned: ProvisionedResources, imports: StackExports, where: string): string => {
  if (typeof value === 'string') return value;
  const ref = (value as Json | undefined)?.['Ref'];
  if (typeof ref === 'string') {
    const resolved = provisioned.tables[ref] ?? provisioned.queues[ref];
    if (resolved) return resolved;
  }
  const getAtt = logicalIdOf(value);
  if (getAtt && provisioned.queues[getAtt]) return queueArn(provisioned.queues[getAtt]);
  const imported = (value as Json | undefined)?.['Fn::ImportValue'];
  if (typeof imported === 'string' && imports[imported] !== undefined) return imports[imported];
  throw new Error(
    `${where}: cannot resolve ${JSON.stringify(value)} locally (supported: Refs to tables and queues, queue ARNs, and imports of ${Object.keys(imports).join(', ') || 'no exports'})`,
  );
};

/**
 * The Outputs of a template that carry an export, resolved to the locally provisioned names: what a later stack
 * imports with `Fn::ImportValue`.
 */
export const templateExports = (template: Json, provisioned: ProvisionedResources): StackExports =>
  Object.fromEntries(
    Object.entries((template['Outputs'] ?? {}) as Record<string, Json>)
      .filter(([, output]) => typeof output['Export']?.['Name'] === 'string')
      .flatMap(([id, output]) => {
        try {
          return [[output['Export']['Name'] as string, resolveValue(output['Value'], provisioned, {}, `Outputs.${id}`)]];
        } catch {
          // Outputs of resources the emulators do not provision (a stream ARN, say) are simply not importable here.
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

/**
 * The template's Lambda functions with their topics, environment and async settings, so the local run wires
 * exactly what a deployment wires.
 *
 * @example
 * const functions = templateFunctions(readPackagedTemplate('apps/sns-lambdas'), provisioned);
 */
export const templateFunctions = (template: Json, provisioned: ProvisionedResources, imports: StackExports = {}): TemplateFunction[] => {
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
      const queues = entries
        .filter(([, mapping]) => mapping['Type'] === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(mapping['Properties']['FunctionName']).includes(logicalId))
        .map(([id, mapping]) => resolveValue(mapping['Properties']['EventSourceArn'], provisioned, imports, `${id}.EventSourceArn`))
        .filter((arn) => arn.startsWith('arn:aws:sqs:'))
        .map((arn) => {
          const url = queueUrlsByArn.get(arn);
          if (!url) throw new Error(`${logicalId}: consumes ${arn}, which was not provisioned locally`);
          return url;
        });
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
        queues,
        environment,
        maximumRetryAttempts: invokeConfig?.['MaximumRetryAttempts'] ?? 2,
        onFailureQueue: logicalIdOf(invokeConfig?.['DestinationConfig']?.['OnFailure']?.['Destination']),
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
