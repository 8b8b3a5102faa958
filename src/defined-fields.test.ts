import { describe, expect, it } from 'vitest';
import { definedFields } from './defined-fields.ts';

describe('definedFields', () => {
  it('keeps the fields that have a value, falsy ones included, and drops the undefined ones', () => {
    const reason: string | undefined = undefined;
    const fields = definedFields({ op: 0, by: '', retry: false, none: null, reason });
    expect(fields).toEqual({ op: 0, by: '', retry: false, none: null });
    expect(Object.keys(fields)).toEqual(['op', 'by', 'retry', 'none']);
  });

  it('types a field that may be undefined as optional, and the others as they were', () => {
    const request: { maxDepth?: number; holder: string } = { holder: 'agent:a' };
    const fields = definedFields({ holder: request.holder, maxDepth: request.maxDepth });
    const holder: string = fields.holder;
    const depth: number | undefined = fields.maxDepth;
    expect([holder, depth, 'maxDepth' in fields]).toEqual(['agent:a', undefined, false]);
  });
});
