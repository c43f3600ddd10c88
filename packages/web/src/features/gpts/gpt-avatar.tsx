// A GPT's face: its avatar image (served by /api/gpts/{id}/avatar to whoever may see the GPT), or,
// without one, a disc with a sparkle. Decorative by default: the name is written beside it.
import { useState } from 'react';
import { Icon } from '../../ui/icons';
import { avatarUrl } from './gpts-api';

export function GptAvatar({
  gptId,
  avatarFileId,
  size = 40,
  alt = '',
}: {
  gptId: string | null;
  avatarFileId: string | null;
  size?: number;
  alt?: string;
}) {
  const [failed, setFailed] = useState<string | null>(null);
  const style = { width: size, height: size };
  if (gptId && avatarFileId && failed !== avatarFileId) {
    return (
      <img
        className="gpt-avatar"
        src={avatarUrl(gptId, avatarFileId)}
        alt={alt}
        width={size}
        height={size}
        style={style}
        onError={() => setFailed(avatarFileId)}
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
