import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../journal/canonical-json.ts';
import { sealEvent, hashEvent, GENESIS_HASH } from '../journal/hash-chain.ts';
import { stepCompleted } from './context-impl.ts';

/** A step's event is sealed from text built by hand: it must be the payload's canonical JSON. */
describe('stepCompleted', () => {
  const results: unknown[] = [
    0,
    -1.5e-7,
    'text with "quotes" and ünïcode',
    null,
    true,
    [1, { b: 2, a: [null] }],
    { z: 1, a: { y: 'x', b: undefined }, ä: 2, B: 3 },
    undefined,
  ];
  for (const result of results) {
    it(`encodes ${JSON.stringify(result) ?? 'undefined'} as canonicalJson would`, () => {
      const draft = stepCompleted(7, 'load "account"', 2, result, canonicalJson(result ?? null));
      const sealed = sealEvent({
        runId: 'run_1',
        seq: 3,
        type: draft.type,
        at: '2026-01-01T00:00:00.000Z',
        actor: 'workflow:w',
        onBehalfOf: ['user:a'],
        payload: draft.payload,
        prevHash: GENESIS_HASH,
      });
      // The hash a verifier computes from the stored payload is the one the event was sealed with.
      const stored = JSON.parse(JSON.stringify(sealed)) as typeof sealed;
      expect(hashEvent(stored)).toBe(sealed.hash);
      expect(canonicalJson(draft.payload)).toBe(
        `{"attempt":2,"name":"load \\"account\\"","op":7${result === undefined ? '' : `,"result":${canonicalJson(result)}`}}`,
      );
    });
  }
});
