/** A JSON value, pretty-printed. */
export function JsonView(props: { value: unknown; label?: string; testId?: string }) {
  const text = props.value === undefined ? '—' : JSON.stringify(props.value, null, 2);
  return (
    <pre className="json" aria-label={props.label} data-testid={props.testId}>
      {text}
    </pre>
  );
}
