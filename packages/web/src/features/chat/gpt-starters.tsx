// A GPT's conversation starters as buttons, while its chat (or the builder's preview) is empty.
export function GptStarters({
  starters,
  label,
  onStart,
}: {
  starters: readonly string[];
  /** The list's name, for screen readers. */
  label: string;
  onStart: (starter: string) => void;
}) {
  if (starters.length === 0) return null;
  return (
    <ul className="gpt-starters" aria-label={label}>
      {starters.map((starter) => (
        <li key={starter}>
          <button type="button" className="gpt-starter" onClick={() => onStart(starter)}>
            {starter}
          </button>
        </li>
      ))}
    </ul>
  );
}
