// Avatars the builder assistant asks for: one or two characters on a coloured disc, drawn in the
// page as a PNG and uploaded like any avatar, so a GPT gets a face without an image model.
import { AVATAR_COLORS, type AvatarSpec } from './builder-tools';

const SIZE = 256;

export async function drawAvatar({ symbol, color }: AvatarSpec): Promise<File> {
  const canvas = document.createElement('canvas');
  canvas.width = SIZE;
  canvas.height = SIZE;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw images.');
  context.fillStyle = AVATAR_COLORS[color];
  context.beginPath();
  context.arc(SIZE / 2, SIZE / 2, SIZE / 2, 0, Math.PI * 2);
  context.fill();
  context.fillStyle = '#ffffff';
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  context.font = `600 ${symbol.length > 1 ? 104 : 132}px system-ui, sans-serif`;
  context.fillText(symbol, SIZE / 2, SIZE / 2 + 6, SIZE * 0.8);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('The avatar could not be drawn.');
  return new File([blob], 'avatar.png', { type: 'image/png' });
}
