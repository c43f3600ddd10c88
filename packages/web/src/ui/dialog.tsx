// Modal dialogs on the native <dialog>: showModal() makes the rest of the page inert, traps
// focus, closes on Escape and restores focus to what opened it, all done by the browser.
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { IconButton } from './button';

export interface DialogProps {
  readonly open: boolean;
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ReactNode;
  /** Label of the close button. */
  readonly closeLabel: string;
  readonly size?: 'small' | 'large';
  readonly className?: string;
}

export function Dialog({
  open,
  title,
  onClose,
  children,
  closeLabel,
  size = 'small',
  className,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard's way out is Escape, which <dialog> handles itself.
    <dialog
      ref={ref}
      className={`dialog dialog-${size}${className ? ` ${className}` : ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        // A click on the backdrop (the dialog element itself, outside its content) closes it.
        if (event.target === ref.current) onClose();
      }}
    >
      {open ? (
        <div className="dialog-content">
          <header className="dialog-header">
            <h2 id={titleId}>{title}</h2>
            <IconButton icon="close" label={closeLabel} onClick={onClose} />
          </header>
          {children}
        </div>
      ) : null}
    </dialog>
  );
}

export interface ConfirmDialogProps {
  readonly open: boolean;
  readonly title: string;
  readonly body: ReactNode;
  readonly confirmLabel: string;
  readonly cancelLabel: string;
  readonly busy?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  cancelLabel,
  busy = false,
  onConfirm,
  onCancel,
}: ConfirmDialogProps) {
  return (
    <Dialog open={open} title={title} onClose={onCancel} closeLabel={cancelLabel}>
      <div className="dialog-body">{body}</div>
      <footer className="dialog-footer">
        <button type="button" className="button button-secondary button-medium" onClick={onCancel}>
          {cancelLabel}
        </button>
        <button
          type="button"
          className="button button-danger button-medium"
          onClick={onConfirm}
          disabled={busy}
          aria-busy={busy || undefined}
        >
          {confirmLabel}
        </button>
      </footer>
    </Dialog>
  );
}
