"""Benchmark the Playwright executor against raw Playwright on the same Chromium.

    .venv/bin/python benchmarks/bench_browser.py [--rounds N]

Prints medians (ms) for:
- session start: raw ``new_context + new_page + goto`` vs executor ``open_session + goto``
  (prewarmed context), both ending with the page loaded;
- per-action round trip: raw ``page.evaluate`` vs executor ``evaluate_js`` (reply through the
  sink), with recording (tracing + screencast) on and off, so the tracing cost shows;
- end to end through LocalServer and SmoothClient (HTTP + long poll) for evaluate_js.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from playwright.async_api import async_playwright

from pytest_smooth._core.models import TaskRequest
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.browser.executor import PlaywrightExecutor
from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.executor import SessionSpec
from tests.browser_support import RecordingSink

PAGE = "data:text/html,<title>Bench</title><h1>bench</h1><input id=q>"


def ms(samples: list[float]) -> str:
    p90 = sorted(samples)[int(len(samples) * 0.9)]
    return f"{statistics.median(samples) * 1000:7.2f} ms (p90 {p90 * 1000:.2f})"


async def bench_executor(rounds: int) -> None:
    target = find_browser()
    async with async_playwright() as pw:
        raw_browser = await pw.chromium.launch(
            executable_path=target.location, args=list(CHROMIUM_ARGS), headless=True
        )
        executor = PlaywrightExecutor(target, prewarm=2)
        await executor.start()
        await executor.pool.warmed("desktop")
        sink = RecordingSink()
        raw_start: list[float] = []
        ex_start: list[float] = []
        counter = 0
        for _ in range(rounds):
            t = time.perf_counter()
            context = await raw_browser.new_context()
            page = await context.new_page()
            await page.goto(PAGE)
            raw_start.append(time.perf_counter() - t)
            await context.close()

            await executor.pool.warmed("desktop")
            counter += 1
            task = f"t{counter}"
            t = time.perf_counter()
            executor.open_session(SessionSpec(task, TaskRequest()), sink)
            executor.submit(task, f"{task}-goto", "goto", {"url": PAGE})
            await sink.reply(f"{task}-goto")
            ex_start.append(time.perf_counter() - t)
            executor.close_session(task, graceful=True)
            await executor.wait_closed(task, 30)
        print(f"session start   raw {ms(raw_start)}   executor {ms(ex_start)}")

        context = await raw_browser.new_context()
        page = await context.new_page()
        await page.goto(PAGE)
        results: dict[str, list[float]] = {"raw": [], "recording": [], "no recording": []}
        tasks = {}
        for label, recording in (("recording", True), ("no recording", False)):
            counter += 1
            tasks[label] = f"t{counter}"
            spec = SessionSpec(tasks[label], TaskRequest(enable_recording=recording))
            executor.open_session(spec, sink)
            executor.submit(tasks[label], f"{tasks[label]}-goto", "goto", {"url": PAGE})
            await sink.reply(f"{tasks[label]}-goto")
        for i in range(rounds * 10):
            t = time.perf_counter()
            await page.evaluate("document.title")
            results["raw"].append(time.perf_counter() - t)
            for label, task in tasks.items():
                event = f"{task}-{i}"
                t = time.perf_counter()
                executor.submit(task, event, "evaluate_js", {"js": "document.title"})
                await sink.reply(event)
                results[label].append(time.perf_counter() - t)
        print("evaluate_js     " + "   ".join(f"{k} {ms(v)}" for k, v in results.items()))
        await executor.stop()
        await raw_browser.close()


def bench_http(rounds: int) -> None:
    with (
        LocalServer(prewarm=1) as server,
        SmoothClient(api_key=server.api_key, base_url=server.base_url) as client,
        client.session() as session,
    ):
        session.goto(PAGE)
        samples = []
        for _ in range(rounds * 10):
            t = time.perf_counter()
            session.evaluate_js("document.title")
            samples.append(time.perf_counter() - t)
        print(f"evaluate_js over HTTP (client + LocalServer) {ms(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    asyncio.run(asyncio.wait_for(bench_executor(rounds), 600))
    bench_http(rounds)


if __name__ == "__main__":
    main()
