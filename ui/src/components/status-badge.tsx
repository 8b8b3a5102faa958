/** A run's or a step's status, coloured. */
export function StatusBadge(props: { status: string; paused?: boolean | undefined }) {
  return (
    <span className={`badge badge-${props.status}`} data-status={props.status}>
      {props.paused ? 'paused' : props.status}
    </span>
  );
}
