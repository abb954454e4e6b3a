// The page's script: one PeerManager, one node at a time. Bundled for the browser by
// examples/browser/serve.ts (in an app: `import { PeerManager } from 'lnpeer'` and any bundler).
import { PeerManager, isLnPeerError } from '../../src/index.js';

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;
const connectForm = $<HTMLFormElement>('#connect');
const sendForm = $<HTMLFormElement>('#send');
const status = $<HTMLElement>('#status');
const messages = $<HTMLUListElement>('#messages');
const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement;

const pm = new PeerManager();
let peerId: string | undefined;

function show(text: string, failed = false): void {
  status.textContent = text;
  status.className = failed ? 'failed' : '';
}

function list(text: string): void {
  const item = document.createElement('li');
  item.textContent = text;
  messages.append(item);
}

function connected(id: string | undefined): void {
  peerId = id;
  $<HTMLButtonElement>('#disconnect').disabled = !id;
  $<HTMLButtonElement>('#send button').disabled = !id;
  connectForm.querySelector('button')!.disabled = Boolean(id);
}

pm.on('custommsg', ({ type, payload }) => list(`← ${type.toString(16)} ${new TextDecoder().decode(payload)}`));
pm.on('peer:disconnect', ({ reason }) => {
  connected(undefined);
  show(`disconnected: ${reason}`);
  $<HTMLElement>('#features').textContent = '';
});

connectForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  show('connecting…');
  try {
    const info = await pm.connect(field(connectForm, 'address').value.trim());
    connected(info.peerId);
    show(`connected to ${info.peerId}`);
    $<HTMLElement>('#features').textContent = `its features: ${info.features.join(', ')}${info.networks ? `; networks: ${info.networks.join(', ')}` : ''}`;
  } catch (err) {
    show(isLnPeerError(err) ? `${err.code}: ${err.message}` : String(err), true);
  }
});

$<HTMLButtonElement>('#disconnect').addEventListener('click', () => peerId && void pm.disconnect(peerId));

sendForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const type = field(sendForm, 'type').value;
  const text = field(sendForm, 'text').value;
  const hex = type + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('');
  try {
    await pm.sendCustomMsg(peerId!, hex);
    list(`→ ${type.toLowerCase()} ${text}`);
  } catch (err) {
    // The validator's refusals (an even or internal type, a bad length) say what is allowed.
    show(isLnPeerError(err) ? `${err.code}: ${err.message}` : String(err), true);
  }
});

// The address to start with, when the page was opened with ?node=<address>.
field(connectForm, 'address').value = new URLSearchParams(location.search).get('node') ?? '';
