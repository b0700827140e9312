import { useId, useState } from 'preact/hooks';
import { Confirm, type ConfirmProps } from './confirm';

/**
 * The confirmation of an erasure that cannot be undone: its button is enabled once the
 * user typed the name of what is erased (`expected`) in the field labelled `label`. What
 * was typed is cleared as the dialog closes, so that it opens empty the next time.
 */
export function TypedConfirm(
  props: Omit<ConfirmProps, 'danger' | 'confirmDisabled'> & {
    /** What the user types to confirm: the name of what is erased. */
    expected: string;
    /** The label of the field it is typed in. */
    label: string;
  },
) {
  const [typed, setTyped] = useState('');
  const id = useId();
  const closing = (then: () => void) => () => {
    setTyped('');
    then();
  };
  return (
    <Confirm
      open={props.open}
      title={props.title}
      confirmLabel={props.confirmLabel}
      danger
      confirmDisabled={typed !== props.expected}
      onConfirm={closing(props.onConfirm)}
      onCancel={closing(props.onCancel)}
    >
      {props.children}
      <label for={id}>{props.label}</label>
      <input
        id={id}
        autocomplete="off"
        value={typed}
        onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
      />
    </Confirm>
  );
}
