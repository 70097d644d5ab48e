"""Peers and clients for the integration tests (python3 stdlib only).

  netutil.py sink PORT                 accept; read to EOF; reply the
                                       SHA-256 (hex) of what came; repeat
  netutil.py echo PORT [TAG]           echo every chunk, prefixed by TAG
  netutil.py tls-echo PORT CERT KEY    the same over TLS
  netutil.py send PORT MIB             send MIB MiB of pseudo-random data,
                                       half-close, print "SENT_SHA REPLY"
  netutil.py session PORT              one connection driven from stdin:
                                       "send X" prints the reply (or
                                       "eof"), "wait-eof" prints "eof"
                                       once the gateway closes it
  netutil.py roundtrip PORT MSG [CA [CERT KEY]]
                                       send MSG, print what comes back
                                       (TLS to "localhost" if CA given)
"""
import hashlib
import os
import socket
import ssl
import sys
import threading


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(port)))
    s.listen(64)
    return s


def serve(s, handler, wrap=None):
    while True:
        c, _ = s.accept()
        if wrap:
            try:
                c = wrap(c)
            except (ssl.SSLError, OSError):
                c.close()
                continue
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def sink_handler(c):
    h = hashlib.sha256()
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        h.update(d)
    c.sendall(h.hexdigest().encode())
    c.close()


def echo_handler(tag):
    def handler(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(tag + d)
        except OSError:
            pass
        c.close()
    return handler


def send(port, mib):
    block = bytearray(os.urandom(1 << 20))
    h = hashlib.sha256()
    c = socket.create_connection(("127.0.0.1", int(port)))
    for i in range(int(mib)):
        block[0:8] = i.to_bytes(8, "little")  # every MiB differs
        h.update(block)
        c.sendall(block)
    c.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        reply += d
    print(h.hexdigest(), reply.decode() or "-")


def roundtrip(port, msg, ca=None, cert=None, key=None):
    c = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    if ca:
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        c = ctx.wrap_socket(c, server_hostname="localhost")
    c.sendall(msg.encode())
    got = b""
    try:
        while len(got) < len(msg):
            d = c.recv(65536)
            if not d:
                break
            got += d
    except (OSError, ssl.SSLError) as e:
        print("error:", e)
    print(got.decode(errors="replace"))


def session(port):
    try:
        c = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
    except OSError as e:
        print("refused", e, flush=True)
        return
    print("connected", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.rstrip("\n").partition(" ")
        try:
            if cmd == "send":
                c.sendall(arg.encode())
                d = c.recv(65536)
                print(d.decode(errors="replace") if d else "eof", flush=True)
            elif cmd == "wait-eof":
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                print("eof", flush=True)
            elif cmd == "close":
                break
        except OSError as e:
            print("error", e, flush=True)
    c.close()


def main(argv):
    cmd = argv[1]
    if cmd == "sink":
        serve(listener(argv[2]), sink_handler)
    elif cmd == "echo":
        tag = argv[3].encode() if len(argv) > 3 else b""
        serve(listener(argv[2]), echo_handler(tag))
    elif cmd == "tls-echo":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(argv[3], argv[4])
        serve(listener(argv[2]), echo_handler(b""),
              lambda c: ctx.wrap_socket(c, server_side=True))
    elif cmd == "send":
        send(argv[2], argv[3])
    elif cmd == "session":
        session(argv[2])
    elif cmd == "roundtrip":
        roundtrip(*argv[2:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
