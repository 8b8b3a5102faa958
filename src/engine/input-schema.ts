import { InvalidArgumentError } from '../errors.ts';

/**
 * A schema a workflow's input is checked against: any Standard Schema (zod, Valibot, ArkType…).
 * A zod schema is also described as JSON Schema by the HTTP server, for the web UI's start form.
 */
export interface InputSchema<Input = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => InputSchemaResult<Input> | Promise<InputSchemaResult<Input>>;
  };
}

export type InputSchemaResult<Input> =
  | { readonly value: Input; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };

/**
 * The input as the schema reads it (zod's defaults and coercions applied), or InvalidArgumentError
 * naming each field that does not fit, before anything is journaled.
 */
export async function checkInput<Input>(
  schema: InputSchema<Input>,
  input: unknown,
  workflow: string,
): Promise<Input> {
  const result = await schema['~standard'].validate(input);
  if (result.issues === undefined) return result.value;
  const problems = result.issues.slice(0, 5).map((issue) => {
    const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part));
    return path.length === 0 ? issue.message : `${path.join('.')}: ${issue.message}`;
  });
  throw new InvalidArgumentError(
    `The input of workflow '${workflow}' does not fit its schema: ${problems.join('; ')}.`,
  );
}
