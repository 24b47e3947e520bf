import { isSnsTopicArn } from '../../src';

describe('Function: isSnsTopicArn', () => {
  it.each([
    'arn:aws:sns:eu-west-1:123456789012:alma-loan-returned',
    'arn:aws:sns:eu-west-1:000000000000:alma-cache-stg-cache-changes',
    'arn:aws-us-gov:sns:us-gov-west-1:123456789012:LOAN_CREATED',
    'arn:aws:sns:eu-west-1:123456789012:changes.fifo',
  ])('accepts %s', (arn) => {
    expect(isSnsTopicArn(arn)).toBe(true);
  });

  it.each([
    'https://sqs.eu-west-1.amazonaws.com/000000000000/changes',
    'arn:aws:sqs:eu-west-1:123456789012:alma-loan-returned',
    'arn:aws:sns:eu-west-1:12345:alma-loan-returned',
    'arn:aws:sns:eu-west-1:123456789012:',
    'arn:aws:sns:eu-west-1:123456789012:alma loan',
    `arn:aws:sns:eu-west-1:123456789012:${'x'.repeat(257)}`,
  ])('refuses %s', (value) => {
    expect(isSnsTopicArn(value)).toBe(false);
  });
});
