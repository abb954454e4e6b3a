/**
 * Chain hashes as used on the wire, e.g. in `init`'s `networks` (BOLT 1 "The `init`
 * Message"). BOLT 0 defines `chain_hash` as the genesis block hash in its natural byte
 * order, i.e. NOT reversed the way `bitcoin-cli` displays it.
 */
import { describe, fromHex, toHex } from '../bytes.js';
import { checkBytes } from '../checks.js';
import { LnPeerError } from '../errors.js';

/** The networks lnpeer knows by name. */
export type NetworkName = 'bitcoin' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

/** Chain hash (wire order, hex) of each named network (BOLT 0 `chain_hash`: the genesis block hash). */
export const CHAIN_HASHES: Readonly<Record<NetworkName, string>> = Object.freeze({
  bitcoin: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000',
  testnet4: '43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000',
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000',
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
});

const NAMES = Object.keys(CHAIN_HASHES) as NetworkName[];
const NAME_LIST = NAMES.map((n) => `'${n}'`).join(', ');

/** The 32-byte chain hash of a named network. */
export function chainHash(name: NetworkName): Uint8Array {
  if (!NAMES.includes(name)) throw new LnPeerError('INVALID_ARGUMENT', `chainHash() name must be one of ${NAME_LIST}, got ${describe(name)}`);
  return new Uint8Array(fromHex(CHAIN_HASHES[name], `chain hash of ${name}`));
}

/** The name of the network whose chain hash is `hash`, or `undefined` for another chain. */
export function networkName(hash: Uint8Array): NetworkName | undefined {
  checkBytes(hash, 'networkName() hash');
  return nameOf(hash);
}

/** A chain hash as people read it: the network's name where known, else its hex. */
export function chainLabel(hash: Uint8Array): string {
  checkBytes(hash, 'chainLabel() hash');
  return nameOf(hash) ?? toHex(hash);
}

function nameOf(hash: Uint8Array): NetworkName | undefined {
  const hex = toHex(hash);
  return NAMES.find((name) => CHAIN_HASHES[name] === hex);
}

/**
 * A chain hash from what a person gives: a network name, 64 hex characters (wire order) or
 * 32 bytes. Anything else throws `INVALID_ARGUMENT` naming the allowed values.
 */
export function parseNetwork(network: string | Uint8Array): Uint8Array {
  if (network instanceof Uint8Array) {
    if (network.length === 32) return new Uint8Array(network);
    throw new LnPeerError('INVALID_ARGUMENT', `chain hash has ${network.length} bytes: a chain hash has exactly 32`, {
      value: toHex(network),
    });
  }
  if (typeof network === 'string') {
    if ((NAMES as string[]).includes(network)) return chainHash(network as NetworkName);
    if (/^[0-9a-fA-F]{64}$/.test(network)) {
      const hash = new Uint8Array(fromHex(network, 'chain hash'));
      const reversed = nameOf(hash.slice().reverse());
      if (reversed) {
        throw new LnPeerError(
          'INVALID_ARGUMENT',
          `chain hash ${network} is the genesis hash of ${reversed} in display order: the wire uses the reversed bytes; pass '${reversed}' instead`,
          { value: network },
        );
      }
      return hash;
    }
  }
  throw new LnPeerError(
    'INVALID_ARGUMENT',
    `network ${typeof network === 'string' ? JSON.stringify(network) : describe(network)} is not known: use one of ${NAME_LIST} or a 64-character hex chain hash`,
    { value: network },
  );
}
