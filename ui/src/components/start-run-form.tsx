import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type JsonSchema, type WorkflowInfo } from '../api.ts';
import { navigate } from '../router.tsx';

type FieldKind = 'text' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';

/** How a property of the input schema is asked for. */
function fieldKind(schema: JsonSchema): FieldKind {
  if (schema.enum && schema.enum.every((value) => typeof value === 'string')) return 'choice';
  switch (schema.type) {
    case 'string':
      return 'text';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

/** A form of fields when the input schema is an object, else one JSON box. */
function formable(
  schema: JsonSchema | undefined,
): schema is JsonSchema & { properties: Record<string, JsonSchema> } {
  return schema?.type === 'object' && schema.properties !== undefined;
}

/** The input the form's values make: empty optional fields left out, numbers and JSON parsed. */
function inputOf(
  schema: JsonSchema & { properties: Record<string, JsonSchema> },
  values: Record<string, string>,
) {
  const required = new Set(schema.required ?? []);
  const input: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = values[name] ?? '';
    const kind = fieldKind(property);
    if (kind === 'boolean') {
      if (raw !== '' || required.has(name)) input[name] = raw === 'true';
      continue;
    }
    if (raw.trim() === '') {
      if (required.has(name)) throw new Error(`${name} is required.`);
      continue;
    }
    if (kind === 'number' || kind === 'integer') input[name] = Number(raw);
    else if (kind === 'json') {
      try {
        input[name] = JSON.parse(raw);
      } catch {
        throw new Error(`${name} is not valid JSON.`);
      }
    } else input[name] = raw;
  }
  return input;
}

/**
 * Starts a run of a chosen workflow, as the signed-in caller: a form built from the workflow's input
 * schema (JSON Schema served by the server), or a JSON box when it declares none. Opens the new run.
 */
export function StartRunForm(props: { onClose: () => void }) {
  const [workflows, setWorkflows] = useState<WorkflowInfo[] | undefined>();
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [json, setJson] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.workflows().then(
      (value) => {
        setWorkflows(value.workflows);
        setName((current) => current || (value.workflows[0]?.name ?? ''));
      },
      (reason: unknown) => setError(reason instanceof Error ? reason.message : String(reason)),
    );
  }, []);
  const chosen = workflows?.find((workflow) => workflow.name === name);
  const schema = chosen?.inputSchema;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      let input: unknown;
      if (formable(schema)) input = inputOf(schema, values);
      else if (json.trim() !== '') {
        try {
          input = JSON.parse(json);
        } catch {
          throw new Error('The input is not valid JSON.');
        }
      }
      const { run } = await api.start(name, input);
      navigate(`/runs/${encodeURIComponent(run.runId)}`);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };

  if (!workflows) return <p className="muted">{error ?? 'Loading the workflows…'}</p>;
  if (workflows.length === 0) return <p className="muted">This server has no workflows to start.</p>;
  return (
    <form className="start-form" onSubmit={(event) => void submit(event)} data-testid="start-form">
      <h2>Start a run</h2>
      <label className="stack">
        Workflow
        <select
          value={name}
          aria-label="Workflow to start"
          onChange={(event) => {
            setName(event.target.value);
            setValues({});
          }}
        >
          {workflows.map((workflow) => (
            <option key={workflow.name} value={workflow.name}>
              {workflow.name}
            </option>
          ))}
        </select>
      </label>
      {chosen?.description && <p className="muted">{chosen.description}</p>}
      {formable(schema) ? (
        <fieldset className="input-fields">
          <legend>Input</legend>
          {Object.entries(schema.properties).map(([field, property]) => (
            <InputField
              key={`${name}.${field}`}
              name={field}
              schema={property}
              required={(schema.required ?? []).includes(field)}
              value={values[field] ?? ''}
              onChange={(value) => setValues({ ...values, [field]: value })}
            />
          ))}
        </fieldset>
      ) : (
        <label className="stack">
          Input (JSON){schema ? '' : ' — this workflow declares no input schema'}
          <textarea
            value={json}
            onChange={(event) => setJson(event.target.value)}
            rows={5}
            spellCheck={false}
          />
        </label>
      )}
      {error && (
        <p className="error" role="alert" data-testid="start-error">
          {error}
        </p>
      )}
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>
          Start
        </button>
        <button type="button" className="quiet" onClick={props.onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

function InputField(props: {
  name: string;
  schema: JsonSchema;
  required: boolean;
  value: string;
  onChange: (value: string) => void;
}) {
  const hint = useId();
  const { schema } = props;
  const kind = fieldKind(schema);
  const described = schema.description ? { 'aria-describedby': hint } : {};
  const label = (
    <>
      {props.name}
      {props.required ? <span aria-hidden="true"> *</span> : <span className="muted"> (optional)</span>}
    </>
  );
  const help = schema.description && (
    <span id={hint} className="muted field-hint">
      {schema.description}
    </span>
  );
  if (kind === 'boolean')
    return (
      <label className="check">
        <input
          type="checkbox"
          checked={props.value === 'true'}
          onChange={(event) => props.onChange(event.target.checked ? 'true' : 'false')}
          {...described}
        />
        {label}
        {help}
      </label>
    );
  return (
    <label className="stack">
      {label}
      {kind === 'choice' ? (
        <select
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
          required={props.required}
          {...described}
        >
          <option value="">{props.required ? 'Choose…' : '(none)'}</option>
          {(schema.enum ?? []).map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      ) : kind === 'json' ? (
        <textarea
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
          rows={3}
          spellCheck={false}
          placeholder="JSON"
          required={props.required}
          {...described}
        />
      ) : (
        <input
          type={kind === 'text' ? 'text' : 'number'}
          step={kind === 'integer' ? 1 : 'any'}
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
          required={props.required}
          {...(schema.minLength === undefined ? {} : { minLength: schema.minLength })}
          {...(schema.maxLength === undefined ? {} : { maxLength: schema.maxLength })}
          {...(schema.minimum === undefined ? {} : { min: schema.minimum })}
          {...(schema.maximum === undefined ? {} : { max: schema.maximum })}
          {...described}
        />
      )}
      {help}
    </label>
  );
}
