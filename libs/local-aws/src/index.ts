export { containerRuntimeAvailable, resolveBackend, startLocalAws, type AwsBackend, type LocalAws } from './backend';
export { startDynamoDbLocal, type DynamoDbLocalServer } from './dynamodb-local';
export { freePort } from './free-port';
export { LOCALSTACK_IMAGE, startLocalStack } from './localstack';
export { startMoto, type MotoServer } from './moto';
export { provisionFromTemplate, type ProvisionedResources } from './provision-from-template';
export type { LocalServer, LogLine } from './server-process';
export { invokeAsync, snsEvent, type AsyncInvokeOptions, type AsyncInvokeResult, type DestinationRecord, type LambdaHandler } from './lambda-async-invoke';
export { TableStreamReader } from './table-stream-reader';
