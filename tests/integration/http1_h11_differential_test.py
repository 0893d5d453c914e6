#!/usr/bin/python3
"""sluice's HTTP/1 parser against an independent one (Debian's python3-h11) on a randomized corpus:
the seeds of tests/fuzz/corpus/http1 and thousands of deterministic mutations of them (bytes
flipped, inserted, deleted; lines duplicated, dropped, swapped; spaces before colons; chunk sizes
changed). Where both parsers reach a verdict they must agree on accept or refuse, and on an
accepted request's method, target and body length. A request one of them accepts and the other
refuses is how smuggling behind a proxy starts.

Known, deliberate differences are listed in DIFFERENCES, each with its reason; anything else fails.
"""
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import check, run  # noqa: E402

import h11  # noqa: E402

MUTATIONS = 6000


def h11_verdict(data):
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=65536)
    try:
        conn.receive_data(data)
        ev = conn.next_event()
        if ev is h11.NEED_DATA:
            return "incomplete", None
        if not isinstance(ev, h11.Request):
            return "reject", None
        body = 0
        while True:
            e = conn.next_event()
            if e is h11.NEED_DATA:
                return "incomplete", None
            if isinstance(e, h11.Data):
                body += len(e.data)
            elif isinstance(e, h11.EndOfMessage):
                break
        target = ev.target.decode("latin-1")
        return "ok", (ev.method.decode("latin-1"), target, body)
    except h11.RemoteProtocolError:
        return "reject", None


def difference(data, ours, theirs):
    """The reason a disagreement is deliberate, or None (a failure)."""
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    parts = first.split(b" ")
    if ours[0] == "ok" and theirs[0] == "ok":
        (om, op, ob), (tm, tp, tb) = ours[1], theirs[1]
        if om == tm and ob == tb and tp.lower().startswith("http") and tp.endswith(op.lstrip("/")):
            return "absolute form: sluice routes by its path (and takes its authority as Host)"
        return None
    if ours[0] == "reject" and theirs[0] == "incomplete":
        # Stricter, never looser: h11 has not seen the end yet; sluice already knows it refuses.
        return {"413": "a chunk size past max_body is refused at once; h11 waits for the bytes",
                "431": "sluice's head limits are reached before the head ends"}.get(
                    ours[1], "sluice refuses at the first bad line or size (Content-Length lists, chunk sizes "
                             "over 16 digits, trailers); h11 waits for more bytes")
    if ours[0] == "incomplete" and theirs[0] == "reject":
        if b"\n\n" not in data and b"\n\r\n" not in data:
            return "sluice judges a head once it is whole (bounded by 64 KiB and header_timeout); h11 refuses a bad first line early"
        return None
    if ours[0] == "reject" and theirs[0] == "ok":
        if ours[1] == "400" and len(parts) == 3 and parts[1] == b"*" and parts[0] != b"OPTIONS":
            return "the asterisk target is for OPTIONS only (RFC 9112 3.2.4); h11 takes it with any method"
        head = data.lstrip(b"\r\n").replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")[1:]
        names = [line.split(b":", 1)[0].lower() for line in head]
        hosts = [line.split(b":", 1)[1].strip(b" \t") for line in head if line.split(b":", 1)[0].lower() == b"host"]
        if any(line[:1] in (b" ", b"\t") for line in head):
            return "obs-fold (a line starting with whitespace): RFC 9112 5.2 lets a server refuse it; h11 folds it"
        values = [line.split(b":", 1)[1] for line in head if line.split(b":", 1)[0].lower() == b"content-length"]
        if any(b"," in v for v in values):
            return "a Content-Length list ('3, 3'): 400 (the issue's rule); h11 takes equal values"
        rest = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        last = rest.rfind(b"\r\n0\r\n")
        trailer = rest[last + 5:] if last >= 0 else (rest[3:] if rest.startswith(b"0\r\n") else None)
        if trailer is not None and b"transfer-encoding" in data.lower():
            lines = trailer.split(b"\r\n")
            if any(b"\n" in t or b":" not in t or re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", t) for t in lines if t):
                return "trailer fields are checked like header fields (token name, no control bytes, CRLF); h11 skips them"
        if names.count(b"content-length") > 1:
            return "two Content-Length lines: 400 even when equal (the issue's rule); h11 merges equal ones"
        if hosts and re.search(rb"[^A-Za-z0-9\-._~!$&'()*+,;=:\[\]%]", hosts[0]):
            return "Host value syntax (RFC 9110 7.2: uri-host [':' port]); h11 does not check it"
        if ours[1] == "400" and len(parts) == 3 and not (parts[1][:1] == b"/" or parts[1] == b"*" or
                                                        re.match(rb"(?i)https?://", parts[1])):
            return "request-target form: origin, absolute (http/https) or '*' only; h11 takes any visible bytes"
        if ours[1] == "505" and len(parts) == 3 and parts[2][:5] == b"HTTP/" and parts[2][5:6] != b"1":
            return "HTTP/2.0 and others over HTTP/1 framing are answered 505; h11 parses any HTTP/x.y"
    return None


def mutate(rng, seed):
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:
            data.insert(rng.randrange(len(data) + 1), rng.choice(b" \t\r\n:;,\x00\xff0aF"))
        elif op == 2 and data:
            del data[rng.randrange(len(data))]
        else:
            lines = bytes(data).split(b"\r\n")
            if len(lines) < 2:
                continue
            i = rng.randrange(len(lines))
            if op == 3:
                lines.insert(i, lines[i])
            elif op == 4:
                del lines[i]
            elif op == 5:
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            elif op == 6 and b":" in lines[i]:
                lines[i] = lines[i].replace(b":", b" :", 1)
            elif op == 7:
                lines[i] = rng.choice([b"Content-Length: 3", b"Transfer-Encoding: chunked", b"Host: a",
                                       b"Transfer-Encoding: gzip, chunked", b"Content-Length: 3, 3",
                                       b"FFFFFFFFFFFFFFFF", b"0", b"3;x=y", b"Host:", b"Connection: close"])
            elif op == 8:
                lines[i] = lines[i].upper() if rng.random() < 0.5 else lines[i].lower()
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


def main(env):
    tool = os.path.join(env.build_dir, "bin", "sluice-http1-verdict")
    check(os.access(tool, os.X_OK), "%s is not built" % tool)
    seed_dir = os.path.join(env.source_dir, "tests", "fuzz", "corpus", "http1")
    seeds = [open(os.path.join(seed_dir, n), "rb").read() for n in sorted(os.listdir(seed_dir))]
    rng = random.Random(9112)
    inputs = list(seeds) + [mutate(rng, rng.choice(seeds)) for _ in range(MUTATIONS)]
    paths = []
    for i, data in enumerate(inputs):
        p = env.path("in-%05d" % i)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    ours = {}
    for start in range(0, len(paths), 500):
        out = subprocess.run([tool] + paths[start:start + 500], stdout=subprocess.PIPE, check=True).stdout
        for line in out.decode("latin-1").splitlines():
            path, verdict = line.split("\t", 1)
            parts = verdict.split(" ")
            if parts[0] == "ok":
                ours[path] = ("ok", (parts[1], parts[2], int(parts[3])))
            elif parts[0] == "reject":
                ours[path] = ("reject", parts[1])
            else:
                ours[path] = ("incomplete", None)
    agree = deliberate = 0
    reasons = {}
    failures = []
    for p, data in zip(paths, inputs):
        o, t = ours[p], h11_verdict(data)
        same = o[0] == t[0] and (o[0] != "ok" or o[1] == t[1])
        if same:
            agree += 1
            continue
        why = difference(data, o, t)
        if why:
            deliberate += 1
            reasons[why] = reasons.get(why, 0) + 1
            continue
        failures.append("%r: sluice %s, h11 %s" % (data[:160], o, t))
    for why, n in sorted(reasons.items(), key=lambda x: -x[1]):
        print("  %5d deliberate: %s" % (n, why))
    check(not failures, "%d verdicts differ from h11's:\n%s" % (len(failures), "\n".join(failures[:15])))
    accepted = sum(1 for v in ours.values() if v[0] == "ok")
    check(accepted > len(inputs) // 10, "only %d of %d inputs were accepted: the corpus is too broken to compare"
          % (accepted, len(inputs)))
    print("%d inputs: %d verdicts agree with h11 (%d accepted by sluice), %d differ deliberately"
          % (len(inputs), agree, accepted, deliberate), flush=True)


if __name__ == "__main__":
    run(main)
