/**
 * What every app's template spec reads from a packaged CloudFormation template, and the ARNs it expects grants on:
 * one shape for the five stacks' contracts.
 */

export type Json = unknown;

export interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
}

export interface Template {
  Parameters?: Record<string, Json>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: Json; Export?: { Name: string } }>;
}

/** One IAM policy statement, as a role's policy document holds it. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The log streams of one function: the only logs grant a role should have. */
export const logGroupArn = (functionName: string): string =>
  `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`;

/** One SSM parameter, by its path name (`/alma-cache/stg/…`). */
export const ssmParameterArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name}` });

/** One DynamoDB table, by a name that may itself be an intrinsic (an import, say). */
export const tableArn = (table: Json) => ({
  'Fn::Sub': ['arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}', { Table: table }],
});
