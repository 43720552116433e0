#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host's half of "qemu follow" (scripts/qemu-follow.sh): hot-plug and
unplug devices in the client QEMU through a QMP socket of its own, and
after each change wait until physmapctl follow, in the test guest, holds
the client's new flat view. TAP on stdout (no plan: the caller adds it).

usage: qmp-hotplug.py --qmp SOCK --results LOG --client-console LOG
                      --physmapctl PATH --tmp DIR [--timeout S]

  --qmp SOCK            the client's QMP socket for this script
  --results LOG         the test guest's results.log: follow's output, as
                        it comes (physmapctl follow --list: the first map's
                        sections are "+" lines too)
  --client-console LOG  the client's console: its /init prints
                        "physmap-client: up" when the kernel has booted
  --physmapctl PATH     the host's physmapctl, whose "parse" turns QEMU's
                        "info mtree -f" into the lines follow prints
  --tmp DIR             scratch files

The view counts as settled when two reads a second apart are the same. A
change is done when the view settled on something else than before it,
and follow's map (its "+" and "-" lines, replayed) is that view, section
for section. At the end the client is told to quit: follow reads EOF on
its port and ends.

An unplug is not waited for by its DEVICE_DELETED: QEMU 7.2 never sends
it once "info mtree -f" ran while the device was mapped. That command
takes a reference to a flat view for every address space that shares it
and drops one per view (softmmu/memory.c, mtree_info_flatview()): the
views it printed are never freed once replaced, nor the devices whose
regions they hold, and DEVICE_DELETED comes when a device is finalized.
The unplug itself happens (the device leaves "info pci", its id is free
again: the last step plugs nvme1 once more).
"""
import argparse
import json
import os
import re
import select
import socket
import subprocess
import sys
import time

def nvme(dev, bus, **props):
    return ("device_add", dict(driver="nvme", id=dev, bus=bus, serial="physmap-" + dev, **props))


# (what, commands): "gone" waits for a device to leave /machine/peripheral
STEPS = [
    ("device_add nvme1 (rp1)", [nvme("nvme1", "rp1")]),
    ("device_add nvme2 (rp2)", [nvme("nvme2", "rp2")]),
    ("device_del nvme1", [("device_del", {"id": "nvme1"})]),
    ("nvme2 replaced by one with 8 MSI-X vectors", [
        ("device_del", {"id": "nvme2"}), ("gone", "nvme2"),
        nvme("nvme2", "rp2", msix_qsize=8)]),
    ("device_del nvme2", [("device_del", {"id": "nvme2"})]),
    ("device_add nvme1 (rp1) again", [nvme("nvme1", "rp1")]),
]

n = 0


def ok(good, what, why=""):
    global n
    n += 1
    print("%sok %d - %s" % ("" if good else "not ", n, what))
    if not good and why:
        for line in why.splitlines()[-12:]:
            print("# " + line)
    sys.stdout.flush()
    return good


def note(msg):
    print("# " + msg)
    sys.stdout.flush()


class QMP:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.buf = b""
        self.events = []
        self.read(30)                           # the greeting
        self.cmd("qmp_capabilities")

    def read(self, timeout):
        """the next message, None if none came in timeout seconds"""
        end = time.time() + timeout
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.sock], [], [], max(0, end - time.time()))
            if not r:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the client closed QMP")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode())
        while True:
            reply = self.read(60)
            if reply is None:
                raise TimeoutError("no reply to " + name)
            if "event" in reply:
                self.events.append(reply)
            elif "return" in reply or "error" in reply:
                return reply

    def wait_event(self, name, device, deadline):
        while True:
            for e in self.events:
                if e["event"] == name and e.get("data", {}).get("device") == device:
                    self.events.remove(e)
                    return True
            if time.time() >= deadline:
                return False
            msg = self.read(min(1, deadline - time.time()))
            if msg and "event" in msg:
                self.events.append(msg)


class Driver:
    def __init__(self, args):
        self.a = args
        self.deadline = time.time() + args.timeout
        self.tmp = os.path.join(args.tmp, "view.txt")

    def left(self):
        return self.deadline - time.time()

    def view(self):
        """the client's flat view, as "physmapctl parse" prints it"""
        r = self.q.cmd("human-monitor-command", **{"command-line": "info mtree -f"})
        with open(self.tmp, "w", encoding="utf-8") as g:
            g.write(r["return"])
        p = subprocess.run([self.a.physmapctl, "parse", "--view", "memory", self.tmp],
                           capture_output=True, text=True, check=False)
        if p.returncode:
            raise RuntimeError("physmapctl parse: " + p.stderr)
        return p.stdout.splitlines()

    def settle(self, before, limit):
        """the view once two reads a second apart agree, and (if before is
        given) it is not before; None at the limit"""
        end = min(time.time() + limit, self.deadline)
        prev = None
        while time.time() < end:
            v = self.view()
            if v == prev and (before is None or v != before):
                return v
            prev = v
            time.sleep(1)
        return None

    def follow_map(self):
        """follow's map: its + and - lines since it began, replayed; None
        if a "-" line does not match what was added"""
        try:
            with open(self.a.results, encoding="utf-8", errors="replace") as g:
                lines = g.read().splitlines()
        except OSError:
            return None, 0
        m, gen, bad = {}, 0, False
        for line in lines:
            if line.startswith("physmap: physmapctl-begin"):
                m, gen = {}, 0
            x = re.match(r"^([+-]) #(\d+) (.*)$", line)
            if x:
                if x.group(1) == "+":
                    bad |= x.group(2) in m
                    m[x.group(2)] = x.group(3)
                else:
                    bad |= m.pop(x.group(2), None) != x.group(3)
            x = re.match(r"^generation (\d+):", line)
            if x:
                gen = int(x.group(1))
        return (None if bad else sorted(m.values())), gen

    def synced(self, view, limit):
        """wait until follow's map is view: (True, generation), or
        (False, why)"""
        end = min(time.time() + limit, self.deadline)
        want = sorted(view)
        while True:
            got, gen = self.follow_map()
            if got == want:
                return True, gen
            if time.time() > end:
                if got is None:
                    return False, "follow's lines do not replay (a - line unlike its +)"
                miss = sorted(set(want) - set(got))
                extra = sorted(set(got) - set(want))
                return False, ("generation %d; missing in follow: %s; "
                               "not in the view: %s" % (gen, miss[:5], extra[:5]))
            time.sleep(0.5)

    def wait_file(self, path, pattern, limit):
        end = min(time.time() + limit, self.deadline)
        while time.time() < end:
            try:
                with open(path, encoding="utf-8", errors="replace") as g:
                    if re.search(pattern, g.read(), re.M):
                        return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def do(self, cmds, what):
        """run a step's commands: False (and a failed result) on an error"""
        for name, args in cmds:
            if name == "gone":
                end = time.time() + 30
                while any(p["name"] == args for p in self.q.cmd(
                        "qom-list", path="/machine/peripheral")["return"]):
                    if time.time() > end:
                        ok(False, what, "%s still there after 30 s" % args)
                        return False
                    time.sleep(0.2)
                continue
            r = self.q.cmd(name, **args)
            if "error" in r:
                ok(False, what, "%s: %s" % (name, r["error"].get("desc", "")))
                return False
        return True

    def run(self):
        t0 = time.time()
        try:
            self.q = QMP(self.a.qmp, self.deadline)
        except OSError as e:
            ok(False, "connect to the client's QMP socket", str(e))
            return
        up = self.wait_file(self.a.client_console, r"^physmap-client: up", 150)
        ok(up, "the client booted: q35, SeaBIOS, Debian's cloud kernel (%d s)"
           % (time.time() - t0))
        started = self.wait_file(self.a.results, r"^generation 1: \d+ sections loaded", 150)
        ok(started, "physmapctl follow in the test guest loaded the client's view (%d s)"
           % (time.time() - t0))
        if not (up and started):
            return
        view = self.settle(None, 60)
        good, gen = self.synced(view or [], 30)
        ok(view is not None and good,
           "before any change: follow holds the client's view, %d sections, "
           "generation %s" % (len(view or []), gen), "" if good else gen)
        if view is None:
            return
        for what, cmds in STEPS:
            t1 = time.time()
            if not self.do(cmds, what):
                break
            new = self.settle(view, 60)
            for name, args in cmds:
                if name == "device_del" and not self.q.wait_event(
                        "DEVICE_DELETED", args["id"], time.time()):
                    # QEMU 7.2's "info mtree -f" keeps a reference to every
                    # flat view it prints: a device in one is never finalized
                    note("%s: no DEVICE_DELETED (the device went all the same)" % args["id"])
            if new is None:
                ok(False, what + ": the flat view changed", "the same after 60 s")
                break
            good, gen = self.synced(new, 30)
            gone = len(set(view) - set(new))
            came = len(set(new) - set(view))
            ok(good, "%s: follow holds the new view: %d sections (-%d +%d), "
               "generation %s (%.0f s)" % (what, len(new), gone, came, gen,
                                           time.time() - t1),
               "" if good else gen)
            if not good:
                break
            view = new
        try:
            self.q.cmd("quit")
        except (OSError, EOFError):
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qmp", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--client-console", required=True)
    p.add_argument("--physmapctl", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--timeout", type=float, default=240)
    Driver(p.parse_args()).run()


if __name__ == "__main__":
    main()
