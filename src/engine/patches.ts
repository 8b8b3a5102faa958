import { BatonError, InvalidArgumentError } from '../errors.ts';

/** A patch id used both ways in one run: `ctx.patched(id)` and `ctx.deprecatePatch(id)`. */
export class PatchMisuseError extends BatonError {
  constructor(args: { runId: string; patchId: string; first: 'patched' | 'deprecatePatch' }) {
    const second = args.first === 'patched' ? 'deprecatePatch' : 'patched';
    super(
      'PATCH_MISUSE',
      `Run ${args.runId} called ctx.${args.first}('${args.patchId}') and then ctx.${second}('${args.patchId}'). ` +
        `A patch is either in place (patched: old and new branch) or deprecated (only the new branch), ` +
        `never both in one version of the code: keep one of the two calls.`,
    );
  }
}

/** Throws InvalidArgumentError unless `patchId` can name a patch. */
export function checkPatchId(
  patchId: unknown,
  call: 'patched' | 'deprecatePatch',
): asserts patchId is string {
  if (typeof patchId !== 'string' || patchId.length === 0 || patchId.length > 256) {
    throw new InvalidArgumentError(
      `ctx.${call}(id): the id is a non-empty string of at most 256 characters, got ${JSON.stringify(patchId)}.`,
    );
  }
}
