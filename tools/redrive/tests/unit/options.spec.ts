import { STAGES } from '../../../system/stacks';
import { parseCli } from '../../options';

const AGAINST_AWS = {} as const;

describe('Function: parseCli', () => {
  it('takes each of the system stages against AWS, stg by default', () => {
    // Act
    const stages = STAGES.map((stage) => parseCli(['list', '--queue', 'failures', '--stage', stage], AGAINST_AWS).stage);
    const byDefault = parseCli(['list', '--queue', 'failures'], AGAINST_AWS).stage;

    // Assess
    expect(stages).toEqual(['stg', 'prod']);
    expect(byDefault).toBe('stg');
  });

  it('refuses a stage that is not one of the system stages against AWS, naming the ones there are', () => {
    // Act
    const act = () => parseCli(['replay', '--queue', 'failures', '--stage', 'prd', '--to', 'source', '--yes'], AGAINST_AWS);

    // Assess
    expect(act).toThrow('--stage "prd" is not a stage: the stages are stg and prod');
  });

  it('takes any lower-case stage against an emulator, so a test can have queues of its own', () => {
    // Act
    const local = parseCli(['list', '--queue', 'failures', '--stage', 't1a2b3c4', '--local'], AGAINST_AWS).stage;
    const endpoint = parseCli(['list', '--queue', 'failures', '--stage', 't5e6f7a8'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).stage;

    // Assess
    expect([local, endpoint]).toEqual(['t1a2b3c4', 't5e6f7a8']);
  });

  it('refuses a stage that could not be part of a queue name even against an emulator', () => {
    // Act
    const act = () => parseCli(['list', '--queue', 'failures', '--stage', 'stg/../prod', '--local'], AGAINST_AWS);

    // Assess
    expect(act).toThrow('--stage "stg/../prod" is not a stage name');
  });
});
