// A GPT's avatar wherever it shows (its chat's header and answers, the history, the GPT pages):
// the image, or, without one (or when it fails to load), a disc with a sparkle. Decorative by
// default: the name is written beside it.
import { useState } from 'react';
import { Icon } from '../../ui/icons';

export function GptFaceImage({
  url,
  size = 40,
  alt = '',
}: {
  /** The avatar's address; null: none. */
  url: string | null;
  size?: number;
  alt?: string;
}) {
  const [failed, setFailed] = useState<string | null>(null);
  const style = { width: size, height: size };
  if (url && failed !== url) {
    return (
      <img
        className="gpt-avatar"
        src={url}
        alt={alt}
        width={size}
        height={size}
        style={style}
        onError={() => setFailed(url)}
      />
    );
  }
  const icon = <Icon name="sparkle" size={Math.round(size * 0.5)} />;
  return alt ? (
    <span className="gpt-avatar gpt-avatar-empty" style={style} role="img" aria-label={alt}>
      {icon}
    </span>
  ) : (
    <span className="gpt-avatar gpt-avatar-empty" style={style} aria-hidden="true">
      {icon}
    </span>
  );
}
