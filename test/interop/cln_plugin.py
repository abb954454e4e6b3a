#!/usr/bin/env python3
"""lnpeertest: the Core Lightning plugin of the interop driver (test/interop/partners/cln.ts).

Streams what the node sees of its peers to the test, one JSON object per line, over the unix
socket named by the option `--lnpeertest-events=PATH` (the driver listens there before it
starts the node):
  {"event": "ready", "pid": N}                              once, after init
  {"event": "connect", "id", "direction", "address"}        `connect` notification
  {"event": "disconnect", "id"}                             `disconnect` notification
  {"event": "custommsg", "peer_id", "payload"}              `custommsg` hook (payload: hex of
                                                             the whole message, type included)
The hook answers `continue` after the line is written, so lines keep the order of the
messages and other plugins (chanbackup's peer storage) still see them.

Even types to accept: the environment variable LNPEERTEST_CUSTOMMESSAGES (comma-separated
numbers) goes into the manifest's `custommessages`. It cannot be a plugin option: lightningd
reads the manifest before it passes options to the plugin (in `init`).

Python 3 standard library only; speaks plugin JSON-RPC over stdin/stdout.
"""
import codecs
import json
import os
import socket
import sys

events = None  # the socket to the test


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n\n")
    sys.stdout.flush()


def emit(obj):
    global events
    if events is not None:
        try:
            events.sendall((json.dumps(obj) + "\n").encode())
        except OSError:
            events = None  # the test has gone: keep serving lightningd


def log(message, level="debug"):
    send({"jsonrpc": "2.0", "method": "log", "params": {"level": level, "message": message}})


def manifest():
    env = os.environ.get("LNPEERTEST_CUSTOMMESSAGES", "")
    return {
        "options": [{
            "name": "lnpeertest-events",
            "type": "string",
            "default": "",
            "description": "unix socket the lnpeer interop test listens on for events",
        }],
        "rpcmethods": [],
        "subscriptions": ["connect", "disconnect"],
        "hooks": [{"name": "custommsg"}],
        "custommessages": [int(t) for t in env.split(",") if t.strip()],
        "dynamic": False,
        "nonnumericids": True,
    }


def body(params, topic):
    # Notifications carry their fields in an object named after the topic (older
    # versions put them at the top level).
    return params.get(topic, params) if isinstance(params, dict) else {}


def handle(method, params):
    global events
    if method == "getmanifest":
        return manifest()
    if method == "init":
        path = params["options"].get("lnpeertest-events", "")
        if path:
            events = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            events.connect(path)
        emit({"event": "ready", "pid": os.getpid()})
        return {}
    if method == "custommsg":
        emit({"event": "custommsg", "peer_id": params["peer_id"], "payload": params["payload"]})
        return {"result": "continue"}
    raise KeyError(method)


def notify(method, params):
    if method == "connect":
        c = body(params, "connect")
        emit({"event": "connect", "id": c.get("id"), "direction": c.get("direction"),
              "address": c.get("address")})
    elif method == "disconnect":
        emit({"event": "disconnect", "id": body(params, "disconnect").get("id")})


def main():
    dec = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    text = ""
    while True:
        chunk = os.read(sys.stdin.fileno(), 1 << 20)
        if not chunk:
            return
        text += utf8.decode(chunk)
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos == len(text):
                break
            try:
                req, pos_end = dec.raw_decode(text, pos)
            except ValueError:
                break  # incomplete: read more
            pos = pos_end
            if "id" not in req:
                notify(req.get("method"), req.get("params") or {})
                continue
            try:
                send({"jsonrpc": "2.0", "id": req["id"], "result": handle(req.get("method"), req.get("params"))})
            except KeyError:
                send({"jsonrpc": "2.0", "id": req["id"],
                      "error": {"code": -32601, "message": "lnpeertest: unknown method %s" % req.get("method")}})
            except Exception as e:  # pragma: no cover
                log("lnpeertest: %r" % e, "warn")
                send({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32603, "message": "lnpeertest: %r" % e}})
        text = text[pos:]


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass  # lightningd or the test went away
