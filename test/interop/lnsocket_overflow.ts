/**
 * Run as a child process by test/interop.test.ts: one message of `size` bytes between lnpeer
 * and lnsocket (`to-lnsocket` or `from-lnsocket`), then lnsocket's clean-up. lnsocket's wasm
 * buffers overflow on the largest messages and the process dies of it
 * ("RuntimeError: memory access out of bounds"), so the test runs it apart.
 *
 *   node --conditions=lnpeer-source --import tsx test/interop/lnsocket_overflow.ts 65535 to-lnsocket
 */
import { manager, pair } from './lnpeer.js';
import { closeAllPartners, withTimeout } from './partner.js';
import { lnsocketPartner } from './partners/lnsocket.js';

const size = Number(process.argv[2]);
const direction = process.argv[3];
const message = new Uint8Array(size).fill(0x5a);
message.set([0xff, 0xfb]);
const p = await pair(manager(), lnsocketPartner, 'responder');
const [from, to] = direction === 'to-lnsocket' ? [p.lnpeer, p.partner] : [p.partner, p.lnpeer];
await from.send(message);
const received = await withTimeout(to.nextMessage(), 10_000, `the ${size}-byte message`);
console.log(`received ${received.length} bytes, ${received.every((b, i) => b === message[i]) ? 'intact' : 'changed'}`);
await closeAllPartners();
console.log('clean');
