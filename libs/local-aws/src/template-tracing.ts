/** The X-Ray tracing contract every app's template spec shares: the per-stage mode and the roles' conditional grant. */

import type { Json, Statement } from './template-contract';

/** An inline policy of a role. */
export interface RolePolicy {
  PolicyName: string;
  PolicyDocument: { Statement: Statement[] };
}

/** The policy every function role lists: its statement allows only when the stage traces, and denies otherwise. */
export const TRACING_ROLE_POLICY = {
  PolicyName: 'xray',
  PolicyDocument: {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'XRayTraces',
        Effect: { 'Fn::If': ['TracingActive', 'Allow', 'Deny'] },
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      },
    ],
  },
} as const;

/** The TracingMode parameter (its default is the stage's mode) and the condition the roles' grant follows. */
export const tracingSettings = (mode: 'Active' | 'PassThrough') => ({
  parameter: { Type: 'String', Default: mode, AllowedValues: ['Active', 'PassThrough'], Description: expect.stringContaining('TRACING_') as unknown },
  condition: { 'Fn::Equals': [{ Ref: 'TracingMode' }, 'Active'] },
});

/**
 * What a role's policies grant as CloudFormation would create them: a statement whose effect follows TracingActive
 * becomes Allow when `tracingActive`, and is left out when not (a Deny grants nothing); policies left without a
 * statement are left out too.
 *
 * @example
 * rolePolicies(role.Properties['Policies'], tracingActive(template)).flatMap((policy) => policy.PolicyDocument.Statement);
 */
export const rolePolicies = (policies: Json, tracingActive: boolean): RolePolicy[] =>
  ((policies ?? []) as RolePolicy[]).flatMap((policy) => {
    const statements = policy.PolicyDocument.Statement.flatMap((statement): Statement[] => {
      const conditional = (statement.Effect as unknown as { 'Fn::If'?: [string, string, string] })['Fn::If'];
      if (conditional === undefined) return [statement];
      if (conditional[0] !== 'TracingActive') throw new Error(`unexpected effect condition ${JSON.stringify(conditional[0])}`);
      return tracingActive ? [{ ...statement, Effect: conditional[1] }] : [];
    });
    return statements.length === 0 ? [] : [{ ...policy, PolicyDocument: { ...policy.PolicyDocument, Statement: statements } }];
  });

/**
 * Whether a packaged template traces: the default of its TracingMode parameter, which the roles' grant follows.
 *
 * @example
 * rolePolicies(role.Properties['Policies'], tracingActive(template));
 */
export const tracingActive = (template: { Parameters?: Record<string, Json> }): boolean =>
  (template.Parameters?.['TracingMode'] as { Default?: unknown } | undefined)?.Default === 'Active';

/** A packaged template's resources, as much of them as {@link tracingOf} reads. */
interface TracedTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, Json> }>;
  Parameters?: Record<string, Json>;
  Conditions?: Record<string, Json>;
}

/**
 * The tracing facts of a packaged template, to compare with {@link expectedTracing}: every function's TracingConfig
 * mode, how many times each role lists {@link TRACING_ROLE_POLICY}, the TracingMode parameter and the condition.
 *
 * @example
 * expect(tracingOf(template)).toEqual(expectedTracing(template, 'PassThrough'));
 */
export const tracingOf = (template: TracedTemplate) => {
  const ofType = (type: string) => Object.values(template.Resources).filter((resource) => resource.Type === type);
  const xrayPolicy = JSON.stringify(TRACING_ROLE_POLICY);
  return {
    functionModes: ofType('AWS::Lambda::Function').map((fn) => fn.Properties?.['TracingConfig']),
    xrayPoliciesPerRole: ofType('AWS::IAM::Role').map(
      (role) => ((role.Properties?.['Policies'] ?? []) as Json[]).filter((policy) => JSON.stringify(policy) === xrayPolicy).length,
    ),
    parameter: template.Parameters?.['TracingMode'],
    condition: template.Conditions?.['TracingActive'],
  };
};

/** What {@link tracingOf} must find in a template traced in `mode`: every function in it, every role listing the grant once. */
export const expectedTracing = (template: TracedTemplate, mode: 'Active' | 'PassThrough') => {
  const count = (type: string) => Object.values(template.Resources).filter((resource) => resource.Type === type).length;
  const { parameter, condition } = tracingSettings(mode);
  return {
    functionModes: Array.from({ length: count('AWS::Lambda::Function') }, () => ({ Mode: mode })),
    xrayPoliciesPerRole: Array.from({ length: count('AWS::IAM::Role') }, () => 1),
    parameter,
    condition,
  };
};
