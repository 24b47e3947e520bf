import { LoadOptionsError, parseLoadOptions } from '../../options';

describe('npm run load flags', () => {
  it('has the issue defaults: one rate of 100/s for 60 s, 20 reads/s, 300 patrons, 20 % unknown', () => {
    expect(parseLoadOptions([])).toEqual(
      expect.objectContaining({
        rates: [100],
        durationSeconds: 60,
        readersPerSecond: 20,
        patrons: 300,
        unknownShare: 0.2,
        duplicateShare: 0.05,
        lateShare: 0.05,
        drainTimeoutSeconds: 180,
        pollers: 5,
        latest: true,
      }),
    );
  });

  it('reads several rates, and every bound as given', () => {
    const options = parseLoadOptions([
      '--rates',
      '25, 50,100',
      '--duration',
      '3',
      '--readers',
      '0',
      '--patrons',
      '40',
      '--unknown',
      '0.5',
      '--no-latest',
    ]);
    expect(options).toEqual(
      expect.objectContaining({ rates: [25, 50, 100], durationSeconds: 3, readersPerSecond: 0, patrons: 40, unknownShare: 0.5, latest: false }),
    );
  });

  it.each([
    [['--rate', '0'], /--rate takes a whole number from 1 to 1000, not "0"/],
    [['--rate', '2000'], /--rate takes a whole number from 1 to 1000/],
    [['--rate', '10.5'], /--rate takes a whole number/],
    [['--rates', '25,x'], /--rates takes a whole number from 1 to 1000, not "x"/],
    [['--rates', '1,2,3,4,5,6'], /--rates takes at most 5 rates/],
    [['--rate', '10', '--rates', '10,20'], /give --rate or --rates, not both/],
    [['--duration', '601'], /--duration takes a whole number from 1 to 600/],
    [['--readers=-1'], /--readers takes a whole number from 0 to 200, not "-1"/],
    [['--patrons', '5'], /--patrons takes a whole number from 10 to 5000/],
    [['--unknown', '1.5'], /--unknown takes a share from 0 to 1/],
    [['--duplicates', '0.6'], /--duplicates takes a share from 0 to 0.5/],
    [['--late', 'some'], /--late takes a share/],
    [['--drain-timeout', '1'], /--drain-timeout takes a whole number from 5 to 900/],
    [['--pollers', '0'], /--pollers takes a whole number from 1 to 20/],
    [['--ratez', '10'], /Unknown option '--ratez'/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(() => parseLoadOptions(argv)).toThrow(LoadOptionsError);
    expect(() => parseLoadOptions(argv)).toThrow(message);
  });
});
