"""run_task on a real form server: labels of every kind, a CSRF-checked POST that redirects.

A small Starlette app (uvicorn in a thread on 127.0.0.1) serves a profile form as a web
framework would: a CSRF token in a cookie and a hidden field, fields named by ``<label for>``,
a wrapping ``<label>``, ``aria-label`` and ``placeholder``, and ``<input type=submit value=...>``.
The POST checks the token, takes a while, and answers 303 to a page showing what was saved, so
the instruction after the submit must wait for that page.
"""

from __future__ import annotations

import asyncio
import html
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.server.local import LocalServer

POST_DELAY = 0.6  # the server's think time: longer than a click takes to return
SLOW_IMAGE = 1.0  # the saved page's image, so its load event comes well after it commits
FORM = """<!doctype html><title>Edit profile</title><h1>Edit profile</h1>
<form method="post" action="/profile">
  <input type="hidden" name="csrf_token" value="{token}">
  <p><label for="id_name">Full name</label> <input id="id_name" name="name"></p>
  <p><label>Email address <input name="email" type="email"></label></p>
  <p><input name="city" aria-label="City"></p>
  <p><input name="phone" placeholder="Phone number"></p>
  <p><label><input type="checkbox" name="news"> Send me the newsletter</label></p>
  <p><input type="submit" value="Save profile"></p>
</form>"""
SAVED = """<!doctype html><title>Profile saved</title><h1>Profile saved</h1>
<dl><dt>Name</dt><dd>{name}</dd><dt>Email</dt><dd>{email}</dd><dt>City</dt><dd>{city}</dd>
<dt>Phone</dt><dd>{phone}</dd><dt>Newsletter</dt><dd>{news}</dd></dl>
<p><a href="/profile">Edit again</a></p><img src="/slow.png" alt="">
<script>addEventListener("load", () => {{ document.title = "Profile saved and loaded"; }});
</script>"""


class _App:
    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self.rejected = 0
        self.app = Starlette(routes=[
            Route("/profile", self.form, methods=["GET"]),
            Route("/profile", self.post, methods=["POST"]),
            Route("/saved", self.done, methods=["GET"]),
            Route("/slow.png", self.slow, methods=["GET"]),
        ])  # fmt: skip

    async def form(self, request: Request) -> Response:
        token = request.cookies.get("csrftoken") or secrets.token_hex(16)
        response = HTMLResponse(FORM.format(token=token))
        response.set_cookie("csrftoken", token, samesite="lax")
        return response

    async def post(self, request: Request) -> Response:
        # urlencoded, as a plain <form method=post> sends it (no python-multipart needed)
        data = dict(urllib.parse.parse_qsl((await request.body()).decode()))
        token = request.cookies.get("csrftoken")
        if not token or data.get("csrf_token") != token:
            self.rejected += 1
            return HTMLResponse("<h1>CSRF verification failed</h1>", status_code=403)
        await asyncio.sleep(POST_DELAY)
        self.saved = {k: str(v) for k, v in data.items() if k != "csrf_token"}
        return RedirectResponse("/saved", status_code=303)

    async def slow(self, request: Request) -> Response:  # noqa: ARG002
        await asyncio.sleep(SLOW_IMAGE)  # the saved page's load event waits for this
        return Response(b"", media_type="image/png")

    async def done(self, request: Request) -> Response:  # noqa: ARG002
        values = {k: html.escape(self.saved.get(k, "")) for k in ("name", "email", "city", "phone")}
        values["news"] = "yes" if self.saved.get("news") else "no"
        return HTMLResponse(SAVED.format(**values))


@pytest.fixture(scope="module")
def form_server() -> Iterator[tuple[str, _App]]:
    app = _App()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[SmoothClient]:
    with SmoothClient(
        api_key=local_server.api_key, base_url=local_server.base_url, timeout=60
    ) as c:
        yield c


PROFILE: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                   "city": {"type": "string"}, "newsletter": {"type": "boolean"}},
}  # fmt: skip


@pytest.mark.browser
def test_fill_by_every_label_kind_then_submit_waits_for_the_redirect(
    client: SmoothClient, form_server: tuple[str, _App]
) -> None:
    root, app = form_server
    task = (
        f"go to {root}/profile\n"
        'type "Ada Lovelace" into "Full name"\n'
        'type "ada@example.com" into "Email address"\n'
        'type "London" into "City"\n'
        'type "+44 20 7946 0000" into "Phone number"\n'
        'check "Send me the newsletter"\n'
        'click "Save profile"\n'
        "return title"
    )
    with client.session() as session:
        # The click returns once the redirect commits; the runner waits for the page's load too.
        assert session.run_task(task) == "Profile saved and loaded"
        assert session.run_task("return url") == f"{root}/saved"
        assert app.rejected == 0
        assert app.saved == {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "city": "London",
            "phone": "+44 20 7946 0000",
            "news": "on",
        }
        # The next task starts on the page the redirect led to, and reads it.
        assert session.extract(PROFILE) == {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "city": "London",
            "newsletter": True,
        }


@pytest.mark.browser
def test_enter_in_a_field_submits_and_the_next_instruction_sees_the_new_page(
    client: SmoothClient, form_server: tuple[str, _App]
) -> None:
    root, app = form_server
    task = (
        f'go to {root}/profile; type "Grace Hopper" into "Full name"; type "NYC" into "City";'
        ' press Enter in "City"; click "Edit again"; return title'
    )
    with client.session() as session:
        assert session.run_task(task) == "Edit profile"
        assert app.saved["name"] == "Grace Hopper" and app.saved["city"] == "NYC"
