/**
 * A modal dialog on the native `<dialog>`: the browser traps focus, makes the page behind inert, and
 * closes on Escape; we restore focus to whatever opened it. `variant: 'drawer'` slides in from the right.
 */
import { h, type ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

export function Dialog(props: {
  title: ComponentChildren;
  onClose: () => void;
  variant?: 'drawer' | 'modal';
  children?: ComponentChildren;
  footer?: ComponentChildren;
  subtitle?: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  return h(
    'dialog',
    {
      ref,
      class: `dialog dialog-${props.variant ?? 'modal'}`,
      'aria-labelledby': titleId,
      // A click on the backdrop lands on the dialog element itself.
      onClick: (e: MouseEvent) => {
        if (e.target === ref.current) props.onClose();
      },
    },
    h(
      'div',
      { class: 'dialog-body' },
      h(
        'header',
        { class: 'dialog-header' },
        h(
          'div',
          null,
          h('h2', { id: titleId, class: 'dialog-title' }, props.title),
          props.subtitle ? h('div', { class: 'dialog-subtitle' }, props.subtitle) : null,
        ),
        h(
          'button',
          { type: 'button', class: 'icon-button', 'aria-label': 'Close', onClick: () => props.onClose() },
          '×',
        ),
      ),
      h('div', { class: 'dialog-content' }, props.children),
      props.footer ? h('footer', { class: 'dialog-footer' }, props.footer) : null,
    ),
  );
}
