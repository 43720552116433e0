#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A fake QEMU for physmapctl follow's host test: QMP on a unix socket or
a pseudo-terminal, with "info mtree -f" answered from files in turn.

usage: fake_qmp.py [options] (--unix PATH | --pty LINK) FILE...

The n-th human-monitor-command "info mtree -f" is answered with the n-th
FILE (the last one again past the end). After the answer with FILE n (not
the last), the server sends an unrelated event (RTC_CHANGE, which follow
ignores), then DEVICE_ADDED for an odd n, DEVICE_DELETED for an even one,
with data {"device": "devN", "path": "/machine/peripheral/devN"}, and
answers with FILE n + 1 from then on. After the answer with the last FILE
it closes the connection, unless --stay: then it stays until its client
goes. qmp_capabilities and query-version (7.2.22) are answered as QEMU
does; other commands get a CommandNotFound error, as does a second
qmp_capabilities.

  --unix PATH   listen on a unix socket at PATH, serve one client
  --pty LINK    a pseudo-terminal in raw mode: LINK is made a symlink to
                its client's side (a character device)
  --ready FILE  touched once the socket or LINK exists
  --hmp-error   answer human-monitor-command with a GenericError
  --noise       before the greeting, bytes that are no JSON (as an earlier
                session can leave on a character device), and a reply to
                a command nobody here sent
  --log FILE    the commands received, one JSON object a line
"""
import argparse
import json
import os
import pty
import socket
import sys
import tty


class Server:
    def __init__(self, args, send, recv):
        self.args = args
        self.send_bytes = send
        self.recv = recv
        self.texts = []
        for f in args.files:
            with open(f, encoding="utf-8") as g:
                self.texts.append(g.read())
        self.served = 0
        self.negotiated = False
        self.log = open(args.log, "a") if args.log else None

    def send(self, obj):
        # as QEMU: one object a line, CR LF, non-ASCII as \\uXXXX
        self.send_bytes((json.dumps(obj) + "\r\n").encode())

    def reply(self, cmd, ret=None, error=None):
        msg = {"error": error} if error else {"return": ret if ret is not None else {}}
        if "id" in cmd:
            msg["id"] = cmd["id"]
        self.send(msg)

    def event(self, name, data):
        self.send({"event": name, "data": data,
                   "timestamp": {"seconds": 1700000000 + self.served,
                                 "microseconds": 0}})

    def command(self, cmd):
        """handle one command: False to close the connection"""
        if self.log:
            self.log.write(json.dumps(cmd) + "\n")
            self.log.flush()
        name = cmd.get("execute")
        if name == "qmp_capabilities":
            if self.negotiated:
                self.reply(cmd, error={
                    "class": "CommandNotFound",
                    "desc": "Capabilities negotiation is already complete, command ignored"})
            else:
                self.negotiated = True
                self.reply(cmd)
            return True
        if not self.negotiated:
            self.reply(cmd, error={
                "class": "CommandNotFound",
                "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"})
            return True
        if name == "query-version":
            self.reply(cmd, {"qemu": {"micro": 22, "minor": 2, "major": 7},
                             "package": "fake_qmp.py"})
            return True
        if name == "human-monitor-command" and \
                cmd.get("arguments", {}).get("command-line") == "info mtree -f":
            if self.args.hmp_error:
                self.reply(cmd, error={"class": "GenericError",
                                       "desc": "fake_qmp.py says no"})
                return True
            n = min(self.served, len(self.texts) - 1)
            self.reply(cmd, self.texts[n])
            self.served += 1
            if n == len(self.texts) - 1:
                return self.args.stay
            dev = "dev%d" % self.served
            self.event("RTC_CHANGE", {"offset": 0, "qom-path": "/machine/unattached/device[0]"})
            self.event("DEVICE_ADDED" if self.served % 2 else "DEVICE_DELETED",
                       {"device": dev, "path": "/machine/peripheral/" + dev})
            return True
        self.reply(cmd, error={"class": "CommandNotFound",
                               "desc": "The command %s has not been found" % name})
        return True

    def run(self):
        if self.args.noise:
            self.send_bytes(b"\x00\x1b[K stale \"}\r\n")
            self.send({"return": {}, "id": "someone-else-1"})
        self.send({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7},
                                       "package": "fake_qmp.py"},
                           "capabilities": ["oob"]}})
        buf = ""
        dec = json.JSONDecoder()
        while True:
            data = self.recv()
            if not data:
                return
            buf += data.decode("utf-8", "replace")
            while True:
                buf = buf.lstrip()
                if not buf:
                    break
                try:
                    cmd, end = dec.raw_decode(buf)
                except ValueError:
                    break
                buf = buf[end:]
                if not self.command(cmd):
                    return


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--pty")
    p.add_argument("--ready")
    p.add_argument("--stay", action="store_true")
    p.add_argument("--hmp-error", action="store_true")
    p.add_argument("--noise", action="store_true")
    p.add_argument("--log")
    p.add_argument("files", nargs="+")
    args = p.parse_args()

    def ready():
        if args.ready:
            open(args.ready, "w").close()

    if args.unix:
        s = socket.socket(socket.AF_UNIX)
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        s.bind(args.unix)
        s.listen(1)
        ready()
        c, _ = s.accept()
        Server(args, c.sendall, lambda: c.recv(65536)).run()
        c.close()
        s.close()
        os.unlink(args.unix)
    elif args.pty:
        master, slave = pty.openpty()
        tty.setraw(slave)
        if os.path.lexists(args.pty):
            os.unlink(args.pty)
        os.symlink(os.ttyname(slave), args.pty)
        ready()

        def send(b):
            while b:
                b = b[os.write(master, b):]

        def recv():
            try:
                return os.read(master, 65536)
            except OSError:     # EIO: no client side open any more
                return b""
        # keep the client's side open: it may open it after the greeting
        Server(args, send, recv).run()
        os.close(slave)
        os.close(master)
        os.unlink(args.pty)
    else:
        sys.exit("fake_qmp.py: --unix PATH or --pty LINK")


if __name__ == "__main__":
    main()
