import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ProvisionedResources } from '@alma-cache/local-aws';
import { readPackagedTemplate, type StackExports, templateExports, templateFunctions } from '../local/template';
import type { FunctionRef, LambdaHandler } from './invokers';

const WORKSPACE = resolve(__dirname, '..', '..');

/** The apps whose functions take parked messages, by service, in deploy order (the refresh imports the cache-update stack). */
const APPS = [
  { service: 'alma-cache-sns', project: 'sns-lambdas' },
  { service: 'alma-cache-refresh', project: 'refresh-lambdas' },
] as const;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped CloudFormation

/** The tables and queues a packaged template names, as the emulator knows them (queue URLs through GetQueueUrl). */
const resourcesOf = async (sqs: SQSClient, template: Json): Promise<ProvisionedResources> => {
  const resources = Object.entries((template['Resources'] ?? {}) as Record<string, Json>);
  const tables = Object.fromEntries(
    resources
      .filter(([, resource]) => resource['Type'] === 'AWS::DynamoDB::Table')
      .map(([id, resource]) => [id, String(resource['Properties']['TableName'])]),
  );
  const queues: Record<string, string> = {};
  for (const [id, resource] of resources.filter(([, candidate]) => candidate['Type'] === 'AWS::SQS::Queue')) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: String(resource['Properties']['QueueName']) }));
    if (QueueUrl) queues[id] = QueueUrl;
  }
  return { tables, queues };
};

/**
 * Loads the built bundles of a running local stack (`npm start`), as tools/local/stack.ts does: the function's
 * environment from the template `npm start` packaged into tmp/local-stack/<app>/, with its Refs resolved to the
 * emulator's tables and queues, set before the bundle's cold start; the bundle from dist/apps/<app>/<fn>/index.js.
 * Each bundle is loaded once.
 */
export const localBundleLoader = (sqs: SQSClient, workspace = WORKSPACE): ((fn: FunctionRef) => Promise<LambdaHandler>) => {
  const handlers = new Map<string, LambdaHandler>();
  let environments: Promise<Map<string, { project: string; environment: Record<string, string> }>> | undefined;
  const readEnvironments = async () => {
    const byName = new Map<string, { project: string; environment: Record<string, string> }>();
    let exports: StackExports = {};
    let resources: ProvisionedResources = { tables: {}, queues: {} };
    for (const app of APPS) {
      const packageDir = join(workspace, 'tmp', 'local-stack', app.project);
      const template = readPackagedTemplate(join(workspace, 'apps', app.project), packageDir);
      const own = await resourcesOf(sqs, template);
      resources = { tables: { ...resources.tables, ...own.tables }, queues: { ...resources.queues, ...own.queues } };
      for (const fn of templateFunctions(template, resources, exports))
        byName.set(`${app.service}/${fn.name}`, { project: app.project, environment: fn.environment });
      exports = { ...exports, ...templateExports(template, resources) };
    }
    return byName;
  };
  return async (fn) => {
    const key = `${fn.service}/${fn.name}`;
    const loaded = handlers.get(key);
    if (loaded) return loaded;
    environments ??= readEnvironments();
    const found = (await environments).get(key);
    if (!found) throw new Error(`no function ${fn.name} of ${fn.service} in the local stack's packaged templates (tmp/local-stack/)`);
    const bundle = join(workspace, 'dist', 'apps', found.project, fn.name, 'index.js');
    if (!existsSync(bundle)) throw new Error(`no bundle at ${bundle}: build it with \`npx nx run ${found.project}:build\` (npm start does)`);
    // Each bundle reads its environment at cold start, as in Lambda: give it the template's variables first.
    Object.assign(process.env, found.environment);
    const handler = require(bundle).handler as LambdaHandler;
    handlers.set(key, handler);
    return handler;
  };
};
