// A GPT's face on the GPT pages: its avatar (served by /api/gpts/{id}/avatar to whoever may see
// the GPT), or a disc with a sparkle (GptFaceImage, shared with the chat).
import { GptFaceImage } from '../chat/gpt-face-image';
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
  return (
    <GptFaceImage url={gptId && avatarFileId ? avatarUrl(gptId, avatarFileId) : null} size={size} alt={alt} />
  );
}
