import { cloneElement, h, isValidElement, type ComponentChildren } from 'preact';

/** A labelled control with its hint and its error, wired for screen readers. */
export function Field(props: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  /** The control (input, select): it gets the id, description and invalid state. */
  children?: ComponentChildren;
}) {
  const describedBy =
    [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : '']
      .filter(Boolean)
      .join(' ') || undefined;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: props.id, class: 'label' }, props.label),
    isValidElement(props.children) &&
      cloneElement(props.children, {
        id: props.id,
        'aria-describedby': describedBy,
        'aria-invalid': props.error ? 'true' : undefined,
      }),
    props.hint ? h('p', { id: `${props.id}-hint`, class: 'hint' }, props.hint) : null,
    props.error ? h('p', { id: `${props.id}-error`, class: 'field-error' }, props.error) : null,
  );
}
