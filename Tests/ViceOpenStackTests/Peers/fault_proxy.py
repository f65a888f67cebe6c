"""A TCP proxy in front of Glance that breaks one kind of transfer, for the failure tests.

  fault_proxy.py TARGET_PORT MODE AFTER PORT_FILE

MODE cut-upload:       a connection whose client has sent more than AFTER bytes is closed at once
                       (Glance "goes away" in the middle of an image upload).
MODE corrupt-download: the byte at offset AFTER of every answer longer than that is flipped.
MODE cut-download-once: the first answer longer than AFTER bytes is cut off there (the connection
                       dies mid-download once); later ones pass.
MODE slow-download:    past AFTER bytes of an answer, downloads crawl at about 1 MiB/s.
Small calls (tokens, JSON) stay below AFTER and pass untouched. The proxy writes its port to
PORT_FILE and exits when its standard input closes, so it never outlives the test that started it.
"""
import asyncio
import sys

target_port, mode, after, port_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
cuts_left = [1]


async def pipe(reader, writer, upstream, peer_writer):
    seen = 0
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if upstream and mode == "cut-upload" and seen + len(data) > after:
                writer.transport.abort()
                peer_writer.transport.abort()
                return
            if not upstream and mode == "cut-download-once" and cuts_left[0] and seen + len(data) > after:
                cuts_left[0] = 0
                writer.write(data[:after - seen])
                await writer.drain()
                writer.transport.abort()
                peer_writer.transport.abort()
                return
            if not upstream and mode == "slow-download" and seen > after:
                await asyncio.sleep(len(data) / (1 << 20))
            if not upstream and mode == "corrupt-download" and seen <= after < seen + len(data):
                index = after - seen
                data = data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1:]
            seen += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.transport.abort()
        return
    await asyncio.gather(pipe(client_reader, server_writer, True, client_writer),
                         pipe(server_reader, client_writer, False, server_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(port_file, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    loop = asyncio.get_running_loop()
    # Exit when the test closes our standard input (or dies).
    await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
