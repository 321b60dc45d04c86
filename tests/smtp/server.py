#!/usr/bin/env python3
"""A real SMTP server on loopback for the delivery tests (aiosmtpd).

Each accepted message is saved as <dir>/<n>.eml and listed with its
recipients in <dir>/saved.log; every DATA attempt is counted in
<dir>/attempts.log. Modes make it misbehave the way real
servers do: answer 4xx to the first N messages or always to a recipient,
refuse a recipient with 5xx, drop the connection during DATA, keep a
message and lose (or delay) the answer, require a login, speak STARTTLS or
implicit TLS with a given certificate. It prints READY when listening.
"""
import argparse, asyncio, os, ssl, sys, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", help="user:password")
    p.add_argument("--fail-first", type=int, default=0, help="answer 451 to the first N messages")
    p.add_argument("--drop-first", type=int, default=0, help="drop the connection during the first N DATA")
    p.add_argument("--reject-rcpt", action="append", default=[], help="answer 550 to this recipient")
    p.add_argument("--delay", type=float, default=0, help="seconds to take over each message, as a slow server does")
    p.add_argument("--fail-rcpt", action="append", default=[], help="answer 451 to this recipient, every time")
    p.add_argument("--lose-reply-first", type=int, default=0, help="keep the first N messages, then cut the connection before answering")
    p.add_argument("--slow-reply-first", type=int, default=0, help="keep the first N messages, then answer only after --slow-seconds")
    p.add_argument("--slow-seconds", type=float, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    counter = itertools.count(1)
    state = {"data": 0}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in a.reject_rcpt:
                return "550 5.1.1 Recipient rejected"
            if address in a.fail_rcpt:
                return "451 4.2.1 Mailbox busy, try later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            state["data"] += 1
            n = state["data"]
            with open(os.path.join(a.dir, "attempts.log"), "a") as f:
                f.write("%d %s\n" % (n, ",".join(envelope.rcpt_tos)))
            if n <= a.drop_first:
                server.transport.close()
                return "421 closing"
            if n <= a.drop_first + a.fail_first:
                return "451 4.3.0 Try again later"
            if a.delay:
                await asyncio.sleep(a.delay)
            k = next(counter)
            tmp = os.path.join(a.dir, ".%d.tmp" % k)
            with open(tmp, "wb") as f:
                f.write(envelope.original_content or envelope.content)
            os.rename(tmp, os.path.join(a.dir, "%d.eml" % k))
            with open(os.path.join(a.dir, "saved.log"), "a") as f:
                f.write("%d %s\n" % (k, ",".join(envelope.rcpt_tos)))
            if k <= a.lose_reply_first:
                server.transport.close()  # kept, but the answer is lost
                return "421 closing"
            if k <= a.slow_reply_first:
                await asyncio.sleep(a.slow_seconds)
            return "250 2.0.0 Saved as %d" % k

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = a.auth.split(":", 1)
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    kwargs = dict(hostname="127.0.0.1", port=a.port, server_hostname="localhost")
    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    if ctx and a.implicit_tls:
        kwargs["ssl_context"] = ctx
    elif ctx:
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = True
    if a.auth:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(ctx)
    controller = Controller(Handler(), **kwargs)
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
