#!/usr/bin/python3
"""Electrum 4.3.4 as an interop partner, driven by JSON lines on stdin/stdout.

    electrum_driver.py --mode raw|peer --role initiator|responder --key PRIVHEX
                       [--connect NODEID@HOST:PORT]

mode raw:  electrum.lntransport only (LNTransport / LNResponderTransport); the test
           decides every message, including init.
mode peer: electrum.lnpeer.Peer, what an Electrum wallet runs: it sends its own init,
           checks the remote's, answers pings, and disconnects the way a wallet does.

stdin ops (one JSON object a line; "id" is echoed in the done/error answer):
  {"op":"send","hex":"<type+payload>"}   encrypt and send one whole Lightning message
  {"op":"ping","numPongBytes":n,"byteslen":m}   peer mode: Peer.send_message('ping', ...)
  {"op":"close"}                         close the connection (the process then exits)
stdout events:
  {"event":"listening","nodeId":..,"port":..}   responder, before any connection
  {"event":"handshake","nodeId":..,"remoteNodeId":..}   Noise handshake done
  {"event":"init_sent","hex":..} {"event":"init_received","hex":..}   peer mode
  {"event":"initialized"}                peer mode: Peer.initialized resolved (both inits ok)
  {"event":"message","hex":..}           every decrypted message (peer mode: except init)
  {"event":"closed","reason":..}         the connection ended; the process exits after it
  {"event":"done","id":..}               the op was carried out (send: handed to the socket)
  {"event":"error","id":..,"message":..} the op failed (the connection stays up)

Run with /usr/bin/python3 and a working directory outside the electrum package
(its logging.py would shadow the standard module).
"""
import argparse
import asyncio
import json
import logging
import os
import sys
from types import SimpleNamespace

from electrum import ecc
from electrum.lnpeer import Peer
from electrum.lntransport import LNResponderTransport, LNTransport
from electrum.lnutil import LNPeerAddr
from electrum.lnworker import LNWALLET_FEATURES

INIT = b'\x00\x10'


def emit(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({'event': event, **fields}) + '\n')
    sys.stdout.flush()


class DisconnectLog(logging.Handler):
    """Peer.main_loop swallows the exception that ended it, after logging it
    ("Disconnecting: ..." for the expected ones, "Exception in main_loop: ..." for the
    rest, e.g. the OverflowError of a pong >= 65532 bytes). This keeps the first one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reason = None
        self.verbose = bool(os.environ.get('ELECTRUM_DRIVER_VERBOSE'))

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if self.verbose:
            sys.stderr.write(f'[electrum] {record.name}: {msg}\n')
        for prefix in ('Disconnecting: ', 'Exception in main_loop: '):
            if msg.startswith(prefix) and self.reason is None:
                self.reason = msg[len(prefix):]


class MiniWorker:
    """The part of LNWallet that a channel-less Peer touches. Features are exactly a
    real wallet's (LNWALLET_FEATURES); no channel db, so no gossip queries."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.features = LNWALLET_FEATURES
        self.network = SimpleNamespace(asyncio_loop=loop, lngossip=None, proxy=None,
                                       channel_db=None)

    def uses_trampoline(self) -> bool:
        return True

    def channels_for_peer(self, node_id: bytes) -> dict:
        return {}

    def get_channel_by_id(self, channel_id: bytes):
        return None

    def on_peer_successfully_established(self, peer) -> None:
        pass

    def peer_closed(self, peer) -> None:
        pass


class ObservedPeer(Peer):
    """Peer that reports what it receives; Electrum's handling is unchanged."""

    def process_message(self, message: bytes):
        if message[:2] == INIT:
            emit('init_received', hex=message.hex())
        else:
            emit('message', hex=message.hex())
        return super().process_message(message)


class Driver:
    def __init__(self, args) -> None:
        self.args = args
        self.privkey = bytes.fromhex(args.key)
        self.node_id = ecc.ECPrivkey(self.privkey).get_public_key_bytes().hex()
        self.transport = None
        self.peer = None
        self.local_close = False
        self.done = asyncio.Event()
        self.log = DisconnectLog()
        electrum_logger = logging.getLogger('electrum')
        electrum_logger.addHandler(self.log)
        electrum_logger.setLevel(logging.DEBUG)

    # ---- connection set-up
    async def run(self) -> None:
        stdin_task = asyncio.create_task(self.read_stdin())
        try:
            if self.args.role == 'initiator':
                node_id, hostport = self.args.connect.split('@')
                host, port = hostport.rsplit(':', 1)
                addr = LNPeerAddr(host, int(port), bytes.fromhex(node_id))
                self.transport = LNTransport(self.privkey, addr, proxy=None)
                await self.start()
            else:
                server = await asyncio.start_server(self.on_accept, '127.0.0.1', 0)
                self.server = server
                emit('listening', nodeId=self.node_id, port=server.sockets[0].getsockname()[1])
            await self.done.wait()
        finally:
            stdin_task.cancel()

    async def on_accept(self, reader, writer) -> None:
        self.server.close()  # one connection per process
        self.transport = LNResponderTransport(self.privkey, reader, writer)
        await self.start()

    async def start(self) -> None:
        try:
            if self.args.mode == 'raw':
                await self.run_raw()
            else:
                await self.run_peer()
        except Exception as e:  # noqa: BLE001 (reported, not swallowed)
            self.finish(f'{type(e).__name__}: {e}')

    async def run_raw(self) -> None:
        try:
            remote = await self.transport.handshake()
        except Exception as e:
            return self.finish(f'handshake failed: {e!r}')
        remote = remote or self.transport.remote_pubkey()
        emit('handshake', nodeId=self.node_id, remoteNodeId=remote.hex())
        try:
            async for msg in self.transport.read_messages():
                emit('message', hex=msg.hex())
        except Exception as e:  # LightningPeerConnectionClosed, InvalidTag, ...
            self.transport.close()
            return self.finish(repr(e))

    async def run_peer(self) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(self.transport, LNResponderTransport):
            # as LNWorker.maybe_listen: handshake first, then a Peer on the transport
            try:
                remote = await self.transport.handshake()
            except Exception as e:
                return self.finish(f'handshake failed: {e!r}')
        else:
            remote = self.transport.peer_addr.pubkey
        self.watch_sends()
        self.peer = ObservedPeer(MiniWorker(loop), remote, self.transport)
        self.peer.initialized.add_done_callback(
            lambda f: emit('initialized') if not f.cancelled() and f.exception() is None else None)
        await self.peer.main_loop()  # returns when the Peer has disconnected
        self.finish(self.log.reason or 'peer main_loop ended')

    def watch_sends(self) -> None:
        """Report our init and the end of the initiator's handshake (Peer.initialize
        runs LNTransport.handshake and then sends init at once)."""
        send_bytes = self.transport.send_bytes

        def observed(msg: bytes) -> None:
            if msg[:2] == INIT:
                remote = self.transport.remote_pubkey()
                emit('handshake', nodeId=self.node_id, remoteNodeId=remote.hex())
                emit('init_sent', hex=msg.hex())
            send_bytes(msg)
        self.transport.send_bytes = observed

    def finish(self, reason: str) -> None:
        if self.done.is_set():
            return
        emit('closed', reason='closed by driver' if self.local_close else reason)
        self.done.set()

    # ---- test commands
    async def read_stdin(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)  # a 65535-byte message is 131 kB of hex
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:  # the test went away: close like "close"
                self.do_close()
                return
            cmd = {}
            try:
                cmd = json.loads(line)
                self.handle(cmd)
                emit('done', id=cmd.get('id'))
            except Exception as e:  # noqa: BLE001 (reported to the test)
                emit('error', id=cmd.get('id'), message=f'{type(e).__name__}: {e}')

    def handle(self, cmd: dict) -> None:
        op = cmd.get('op')
        if op == 'close':
            return self.do_close()
        if self.done.is_set():
            raise RuntimeError(f'{op}: the connection has ended')
        if self.transport is None or not hasattr(self.transport, 'sk'):
            raise RuntimeError(f'{op}: no connection yet')
        if op == 'send':
            # written as a Peer would: LNTransportBase.send_bytes
            self.transport.send_bytes(bytes.fromhex(cmd['hex']))
        elif op == 'ping' and self.peer is not None:
            n = cmd.get('numPongBytes', 4)
            self.peer.send_message('ping', num_pong_bytes=n, byteslen=cmd.get('byteslen', 4))
        else:
            raise RuntimeError(f'unknown op {op!r} in mode {self.args.mode}')

    def do_close(self) -> None:
        self.local_close = True
        if self.peer is not None:
            self.peer.close_and_cleanup()
        elif self.transport is not None and hasattr(self.transport, 'writer'):
            self.transport.close()
        else:
            self.finish('closed by driver')


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--mode', choices=['raw', 'peer'], required=True)
    p.add_argument('--role', choices=['initiator', 'responder'], required=True)
    p.add_argument('--key', required=True, help='32-byte private key, hex')
    p.add_argument('--connect', help='NODEID@HOST:PORT (initiator)')
    args = p.parse_args()
    if args.role == 'initiator' and not args.connect:
        p.error('--connect is required for the initiator')
    asyncio.run(Driver(args).run())


if __name__ == '__main__':
    main()
