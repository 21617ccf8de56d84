#!/usr/bin/python3
"""An SMTP sink on many loopback addresses at once, plus a tarpit, for the
"one destination is a tarpit" benchmark row (bench/lib/measure.py).

    multi_sink.py --port P --addresses 127.0.0.101,... --tarpit 127.0.0.150
                  --max-messages N

Each address plays the MX host of one destination: it answers SMTP like
smtp-sink (stores nothing, 250 to everything) and counts the messages it
took. The tarpit address accepts connections and never says a word. Prints
"ready" once every address listens; exits with status 0 once N messages
arrived in all (printing the count per address), like `smtp-sink -M N`.
"""

import argparse
import asyncio
import sys


class Sink:
    def __init__(self, want):
        self.want = want
        self.total = 0
        self.per_address = {}
        self.tarpit_connections = 0
        self.done = asyncio.Event()
        self.tarpitted = []

    async def session(self, reader, writer, address):
        try:
            writer.write(b"220 sink.bench.test ESMTP\r\n")
            in_data = False
            while True:
                line = await reader.readline()
                if not line:
                    return
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        self.total += 1
                        self.per_address[address] = self.per_address.get(address, 0) + 1
                        writer.write(b"250 2.0.0 Ok: queued\r\n")
                        if self.total >= self.want:
                            self.done.set()
                    continue
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink.bench.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    in_data = True
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"250 2.0.0 Ok\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def tarpit(self, reader, writer):
        # Holds the connection open and silent; reads and drops what comes.
        self.tarpit_connections += 1
        self.tarpitted.append(writer)
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass


async def main(args):
    sink = Sink(args.max_messages)
    servers = []
    for address in args.addresses.split(","):
        servers.append(await asyncio.start_server(
            lambda r, w, a=address: sink.session(r, w, a), address, args.port, backlog=512))
    if args.tarpit:
        servers.append(await asyncio.start_server(sink.tarpit, args.tarpit, args.port,
                                                  backlog=512))
    print("ready", flush=True)
    await sink.done.wait()
    print(f"messages={sink.total} tarpit_connections={sink.tarpit_connections} "
          f"addresses={len(sink.per_address)}", flush=True)
    for s in servers:
        s.close()
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addresses", required=True)
    ap.add_argument("--tarpit")
    ap.add_argument("--max-messages", type=int, required=True)
    sys.exit(asyncio.run(main(ap.parse_args())))
