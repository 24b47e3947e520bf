import { resolveBackend } from '../../src/backend';
import { freePort, startMoto } from '../../src';

describe('Function: resolveBackend', () => {
  const runtime = (available: boolean) => jest.fn(async () => available);

  it.each([undefined, '', 'auto', ' AUTO '])('picks localstack for %p when a container runtime answers', async (requested) => {
    // Prepare
    const probe = runtime(true);

    // Act
    const backend = await resolveBackend(requested, probe);

    // Assess
    expect(backend).toBe('localstack');
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it.each([undefined, '', 'auto'])('falls back to local for %p without a container runtime', async (requested) => {
    // Prepare
    const probe = runtime(false);

    // Act
    const backend = await resolveBackend(requested, probe);

    // Assess
    expect(backend).toBe('local');
  });

  it('uses local when asked, without probing for a runtime', async () => {
    // Prepare
    const probe = runtime(true);

    // Act
    const backend = await resolveBackend('local', probe);

    // Assess
    expect(backend).toBe('local');
    expect(probe).not.toHaveBeenCalled();
  });

  it('uses localstack when asked and a runtime answers', async () => {
    // Prepare
    const probe = runtime(true);

    // Act
    const backend = await resolveBackend('localstack', probe);

    // Assess
    expect(backend).toBe('localstack');
  });

  it('refuses a forced localstack without a container runtime', async () => {
    // Prepare
    const probe = runtime(false);

    // Act
    const resolving = resolveBackend('localstack', probe);

    // Assess
    await expect(resolving).rejects.toThrow(/AWS_TEST_BACKEND=localstack.*no container runtime.*AWS_TEST_BACKEND=local/s);
  });

  it('rejects an unknown value and lists the valid ones', async () => {
    // Prepare
    const probe = runtime(true);

    // Act
    const resolving = resolveBackend('dynalite', probe);

    // Assess
    await expect(resolving).rejects.toThrow('AWS_TEST_BACKEND="dynalite" is not a known backend. Valid values: "auto", "localstack", "local"');
    expect(probe).not.toHaveBeenCalled();
  });
});

describe('Function: freePort', () => {
  it('returns distinct usable ports', async () => {
    // Act
    const ports = await Promise.all([freePort(), freePort(), freePort()]);

    // Assess
    for (const port of ports) expect(port).toBeGreaterThan(0);
    expect(new Set(ports).size).toBe(3);
  });
});

describe('Function: startMoto', () => {
  const saved = process.env['MOTO_PYTHON'];
  afterEach(() => {
    if (saved === undefined) delete process.env['MOTO_PYTHON'];
    else process.env['MOTO_PYTHON'] = saved;
  });

  it('says how to fix it when no python with moto is found', async () => {
    // Prepare
    process.env['MOTO_PYTHON'] = '/nonexistent/python3';

    // Act
    const starting = startMoto();

    // Assess
    await expect(starting).rejects.toThrow(
      /No python with moto found \(tried \/nonexistent\/python3: not found\).*pip install 'moto\[server\]==5\.2\.1'.*MOTO_PYTHON/s,
    );
  });
});
