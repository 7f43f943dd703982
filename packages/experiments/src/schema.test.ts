import { s, validate, merge, toJsonSchema, ConfigError } from './schema.js';

describe('schema', () => {
  const schema = s.object({
    steps: s.int({ min: 1, default: 10 }),
    lr: s.number({ min: 0, exclusiveMin: true, default: 0.1 }),
    method: s.enum(['adam', 'sgd'], { default: 'adam' }),
    betas: s.array(s.number(), { minItems: 2, maxItems: 2, default: [0.9, 0.999] }),
    nested: s.object({ on: s.boolean({ default: false }) }, { default: {} }),
    maybe: s.nullable(s.string(), { optional: true }),
  });
  it('fills defaults without changing the input', () => {
    const input = { steps: 3 };
    expect(validate(schema, input, 'config')).toEqual({
      steps: 3,
      lr: 0.1,
      method: 'adam',
      betas: [0.9, 0.999],
      nested: { on: false },
    });
    expect(input).toEqual({ steps: 3 });
  });
  it('names the field, what it allows and what it got', () => {
    const err = (v: unknown) => {
      try {
        validate(schema, v, 'config');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err({ steps: 0 })).toBe('config.steps: must be an integer ≥ 1; got 0');
    expect(err({ steps: 1.5 })).toBe('config.steps: must be an integer ≥ 1; got 1.5');
    expect(err({ steps: '5' })).toBe('config.steps: must be an integer ≥ 1; got "5"');
    expect(err({ lr: 0 })).toBe('config.lr: must be a number > 0; got 0');
    expect(err({ method: 'rmsprop' })).toBe('config.method: must be one of adam, sgd; got "rmsprop"');
    expect(err({ betas: [0.9] })).toBe('config.betas: must have at least 2 items; got an array of 1');
    expect(err({ nested: { on: 1 } })).toBe('config.nested.on: must be true or false; got 1');
    expect(err({ stepz: 1 })).toBe(
      'config.stepz: is not a known field (known: steps, lr, method, betas, nested, maybe); got 1',
    );
    expect(err(null)).toMatch(/^config: must be an object with fields steps, lr/);
    expect(() => validate(schema, { steps: -1 })).toThrow(ConfigError);
  });
  it('merges presets with overrides deeply, replacing arrays', () => {
    expect(merge({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });
  it('exports JSON Schema', () => {
    const js = toJsonSchema(schema) as {
      properties: Record<string, Record<string, unknown>>;
      additionalProperties: boolean;
    };
    expect(js.additionalProperties).toBe(false);
    expect(js.properties.steps).toEqual({ type: 'integer', minimum: 1, default: 10 });
    expect(js.properties.lr).toEqual({ type: 'number', exclusiveMinimum: 0, default: 0.1 });
    expect(js.properties.method).toEqual({ enum: ['adam', 'sgd'], default: 'adam' });
  });
});
