export { startLocalAws, type AwsBackend, type LocalAws } from './backend';
export { startDynamoDbLocal, type DynamoDbLocalServer } from './dynamodb-local';
export { freePort } from './free-port';
export { startMoto, type MotoServer } from './moto';
export { provisionFromTemplate, type ProvisionedResources } from './provision-from-template';
export type { LocalServer, LogLine } from './server-process';
export { TableStreamReader } from './table-stream-reader';
export {
  HttpApiRouteError,
  startHttpApiServer,
  type HttpApiRoute,
  type HttpApiServer,
  type HttpApiServerOptions,
  type JwtClaims,
} from './http-api-server';
export { childEnv, NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from './child-process';
export { nxProject, type NxProject, type NxTarget } from './nx-project';
export { packageTemplate } from './package-template';
export {
  alarmsOf,
  alarmTopicSettings,
  byId,
  functionAlarms,
  HTTP_API_STAGE_DIMENSIONS,
  httpApi5xxAlarm,
  metricAlarm,
  pascalCase,
  queueAgeAlarm,
  queueAlarm,
  type AlarmSummary,
} from './template-alarms';
export { expectedTracing, rolePolicies, TRACING_ROLE_POLICY, tracingActive, tracingOf, tracingSettings, type RolePolicy } from './template-tracing';
export { CapturedMetrics, type EmfDocument } from './captured-metrics';
export { asArray, logGroupArn, ssmParameterArn, tableArn, type Json, type Resource, type Statement, type Template } from './template-contract';
export { snsEvent, sqsEvent, sqsRecord, type LambdaHandler, type SqsMessageFields } from './lambda-events';
