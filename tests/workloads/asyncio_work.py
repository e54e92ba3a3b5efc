#!/usr/bin/python3
# Python asyncio under load: an epoll event loop, blocking calls handed to a
# thread pool (run_in_executor), whose results come back through the loop's
# self-pipe, and asyncio.sleep timers. Prints "ready" once the pool's threads
# exist, and its own count of rounds when stdin closes.
import asyncio
import os
import sys
import time


def blocking():
    time.sleep(0.0005)
    return 1


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def on_stdin():
        if not os.read(sys.stdin.fileno(), 4096) and not stop.done():
            stop.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    rounds = 0
    while not stop.done():
        await asyncio.gather(*(loop.run_in_executor(None, blocking) for _ in range(4)))
        await asyncio.sleep(0.002)
        rounds += 1
        if rounds == 5:
            print("ready", flush=True)
    print(f"asyncio rounds={rounds}", flush=True)


asyncio.run(main())
