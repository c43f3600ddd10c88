// A menu button (WAI-ARIA menu pattern): the button opens a list of actions; arrow keys move,
// Enter or Space picks, Escape or a click elsewhere closes and focus returns to the button.
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { Icon, type IconName } from './icons';

export interface MenuItem {
  readonly key: string;
  readonly label: string;
  readonly icon?: IconName;
  readonly danger?: boolean;
  /** A check mark (radio-like menus: the model menu). */
  readonly checked?: boolean;
  readonly description?: string;
  readonly onSelect: () => void;
}

export interface MenuProps {
  readonly items: readonly MenuItem[];
  /** Renders the button's content; the button itself is the menu's. */
  readonly trigger: ReactNode;
  readonly label: string;
  readonly placement?: 'bottom-start' | 'bottom-end' | 'top-start' | 'top-end';
  readonly triggerClassName?: string;
  readonly title?: string;
}

export function Menu({
  items,
  trigger,
  label,
  placement = 'bottom-start',
  triggerClassName,
  title,
}: MenuProps) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!listRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  useEffect(() => {
    if (open) listRef.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]')[active]?.focus();
  }, [open, active]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((index) => (index + 1) % items.length);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((index) => (index - 1 + items.length) % items.length);
    } else if (event.key === 'Home') {
      event.preventDefault();
      setActive(0);
    } else if (event.key === 'End') {
      event.preventDefault();
      setActive(items.length - 1);
    } else if (event.key === 'Tab') {
      close(false);
    }
  };

  const hasChecks = items.some((item) => item.checked !== undefined);

  return (
    <div className="menu">
      <button
        ref={buttonRef}
        type="button"
        className={triggerClassName ?? 'menu-trigger'}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={label}
        title={title}
        onClick={() => {
          setActive(
            Math.max(
              0,
              items.findIndex((item) => item.checked),
            ),
          );
          setOpen((value) => !value);
        }}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            setActive(event.key === 'ArrowDown' ? 0 : items.length - 1);
            setOpen(true);
          }
        }}
      >
        {trigger}
      </button>
      {open ? (
        <div
          ref={listRef}
          id={menuId}
          role="menu"
          aria-label={label}
          className={`menu-list menu-${placement}`}
          onKeyDown={onKeyDown}
        >
          {items.map((item, index) => (
            // biome-ignore lint/a11y/useAriaPropsSupportedByRole: aria-checked is set only with the menuitemradio role.
            <button
              key={item.key}
              type="button"
              role={hasChecks ? 'menuitemradio' : 'menuitem'}
              aria-checked={hasChecks ? !!item.checked : undefined}
              tabIndex={index === active ? 0 : -1}
              className={`menu-item${item.danger ? ' menu-item-danger' : ''}`}
              onMouseEnter={() => setActive(index)}
              onClick={() => {
                close(true);
                item.onSelect();
              }}
            >
              {item.icon ? <Icon name={item.icon} size={18} /> : null}
              <span className="menu-item-text">
                <span>{item.label}</span>
                {item.description ? <span className="menu-item-description">{item.description}</span> : null}
              </span>
              {hasChecks && item.checked ? <Icon name="check" size={18} /> : null}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
