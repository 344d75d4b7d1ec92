// Ctrl-C during a login. The first one cancels: the view aborts the flow's signal, and the flow
// stops and reports it (so ink unmounts and the terminal is left as it was). A second one, for a
// flow that does not stop, ends the process the default way (ink's exit hook still restores the
// cursor).
export function onInterrupt(cancel: () => void): () => void {
  let pressed = false;
  const handle = () => {
    if (!pressed) {
      pressed = true;
      cancel();
      return;
    }
    process.off('SIGINT', handle);
    process.kill(process.pid, 'SIGINT');
  };
  process.on('SIGINT', handle);
  return () => {
    process.off('SIGINT', handle);
  };
}
