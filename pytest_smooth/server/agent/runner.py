"""Run a ``run_task`` (or one-shot task) on a session's page, instruction by instruction.

The language is documented in ``server/agent/language.py``. Unknown instructions go to the
LLM when one is configured (translated into the language, never executed free-form), else
the task fails with a code-400 message listing what the local backend understands.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.agent.language import Instruction
from pytest_smooth.server.agent.language import UnknownInstruction
from pytest_smooth.server.agent.language import parse_instruction
from pytest_smooth.server.agent.language import parse_instructions
from pytest_smooth.server.agent.language import unquote
from pytest_smooth.server.agent.language import unsupported_message
from pytest_smooth.server.page import actions
from pytest_smooth.server.page.actions import ActionFailed
from pytest_smooth.server.page.devices import url_allowed
from pytest_smooth.server.page.secret_fields import mark_secret_field
from pytest_smooth.server.page.secret_fields import secret_values

if TYPE_CHECKING:
    from playwright.async_api import Locator
    from playwright.async_api import Page

    from pytest_smooth.server.browser.session import BrowserSession

# One instruction may take this long at most (the session's action timeout, if shorter).
STEP_TIMEOUT = 10.0
_SELECTOR = re.compile(r"^(?:[#.\[]|css=|xpath=|//)|^[a-z][\w-]*[#.\[:]|\s[>~+]\s|^[a-z]+$")
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


async def run_task(session: BrowserSession, data: dict[str, Any]) -> Any:
    """Execute the task's instructions; return its value (see ``server/agent/language.py``)."""
    task = data.get("task")
    if not isinstance(task, str) or not task.strip():
        raise ActionFailed("run_task needs a non-empty 'task'")
    steps = await _instructions(session, task)
    max_steps = int(data.get("max_steps") or 32)
    if len(steps) > max_steps:
        raise ActionFailed(f"the task has {len(steps)} instructions, over max_steps={max_steps}")
    runner = _InstructionRunner(session, data)
    if data.get("url"):
        await actions.goto(
            session.page, str(data["url"]), allowed_urls=session.allowed_urls,
            timeout=runner.timeout,
        )  # fmt: skip
    result: Any = _NOTHING
    for number, step in enumerate(steps, 1):
        try:
            await session.ensure_page()  # a step may have opened a tab
            runner.page = session.page
            value = await runner.run(step)
        except ActionFailed as exc:
            raise ActionFailed(f"step {number} ({step.source!r}) failed: {exc.message}") from None
        if value is not _NOTHING:
            result = value
    if result is _NOTHING:
        if runner.model is not None:
            return await runner.extract(None)
        page = session.page
        return {"url": page.url, "title": await page.title(), "steps": len(steps)}
    return result


async def _instructions(session: BrowserSession, task: str) -> list[Instruction]:
    items, unknown = parse_instructions(task)
    if unknown and session.llm is None:
        raise ActionFailed(unsupported_message(unknown))
    steps: list[Instruction] = []
    for item in items:
        if isinstance(item, Instruction):
            steps.append(item)
            continue
        assert session.llm is not None
        translated = await session.llm.translate(item)
        for text in translated:
            try:
                steps.append(parse_instruction(text))
            except UnknownInstruction:
                raise ActionFailed(
                    f"the LLM translated {item!r} into {text!r}, which is not an instruction"
                    f" of the local backend; {unsupported_message([item])}"
                ) from None
    return steps


_NOTHING: Any = object()


class _InstructionRunner:
    def __init__(self, session: BrowserSession, data: dict[str, Any]) -> None:
        self.session = session
        self.page: Page = session.page
        self.timeout = min(session.action_timeout, STEP_TIMEOUT)
        model = data.get("response_model")
        self.model: dict[str, Any] | None = model if isinstance(model, dict) else None
        self.secrets: dict[str, Any] = data.get("secrets") or {}
        session.evidence.secrets.add(*secret_values(data))  # also for one-shot tasks

    async def run(self, step: Instruction) -> Any:
        verb, ms = step.verb, self.timeout * 1000
        if verb == "goto":
            url = self._fill_placeholders(step.text or "", for_url=True)
            await actions.goto(self.page, url, allowed_urls=self.session.allowed_urls,
                               timeout=self.timeout)  # fmt: skip
        elif verb == "wait":
            await asyncio.sleep(min(float(step.value), self.timeout))
        elif verb == "wait_for":
            await self._wait_for(step.target or "")
        elif verb == "extract":
            return await self.extract(step.target)
        elif verb == "call_tool":
            # A tool call is an event the client (and its logs) sees: secrets never go there.
            tool_input = self.session.evidence.secrets.redact_value(step.value)
            return await self.session.tools.call(step.text or "", tool_input, self.timeout)
        elif verb == "press" and not step.target:
            await self.page.keyboard.press(step.text or "")
        else:
            await self._on_element(step, ms)
        return _NOTHING

    async def _on_element(self, step: Instruction, ms: float) -> None:
        from playwright.async_api import Error as PlaywrightError

        purpose = "click" if step.verb == "click" else "fill"
        locator = await self.resolve(step.target or "", step.role, purpose)
        try:
            if step.verb == "click":
                await actions.settle_navigation(self.page, lambda: locator.click(timeout=ms), ms)
            elif step.verb == "type":
                text = self._fill_placeholders(step.text or "")
                if _PLACEHOLDER.search(step.text or ""):  # a secret goes in: hide it first
                    await mark_secret_field(locator, ms)
                await locator.fill(text, timeout=ms)
            elif step.verb == "upload":
                await locator.set_input_files(self._file(step.text or ""), timeout=ms)
            elif step.verb == "fill_secret":
                secret = self._secret(step.text or "")
                await mark_secret_field(locator, ms)
                await locator.fill(secret, timeout=ms)
            elif step.verb == "press":
                key = step.text or ""
                await actions.settle_navigation(
                    self.page, lambda: locator.press(key, timeout=ms), ms
                )
            elif step.verb == "select":
                await locator.select_option(step.text or "", timeout=ms)
            elif step.verb == "check":
                await locator.check(timeout=ms)
            elif step.verb == "uncheck":
                await locator.uncheck(timeout=ms)
        except PlaywrightError as exc:
            raise ActionFailed(actions.playwright_message(exc)) from None

    # --- targets ----------------------------------------------------------------------------

    def _candidates(self, target: str, role: str | None, purpose: str) -> list[Locator]:
        page = self.page
        text, quoted = unquote(target)
        css = not quoted and bool(_SELECTOR.search(text))
        found: list[Locator] = []
        if css and not re.fullmatch(r"[a-z]+", text):
            found.append(page.locator(text))
        if role:
            found += [page.get_by_role(role, name=text, exact=True),  # type: ignore[arg-type]
                      page.get_by_role(role, name=text)]  # type: ignore[arg-type]  # fmt: skip
        if purpose == "click":
            found += [page.get_by_role("button", name=text, exact=True),
                      page.get_by_role("link", name=text, exact=True),
                      page.get_by_role("button", name=text), page.get_by_role("link", name=text),
                      page.get_by_label(text), page.get_by_text(text, exact=True),
                      page.get_by_text(text)]  # fmt: skip
        else:
            found += [page.get_by_label(text, exact=True), page.get_by_label(text),
                      page.get_by_placeholder(text), page.get_by_role("textbox", name=text),
                      page.get_by_role("combobox", name=text)]  # fmt: skip
            if purpose == "read":
                found.append(page.get_by_text(text))
        if css and re.fullmatch(r"[a-z]+", text):
            found.append(page.locator(text))  # a bare tag name, after the text lookups
        return found

    async def resolve(self, target: str, role: str | None, purpose: str) -> Locator:
        """Find the first element the target names, waiting (bounded) for one to appear."""
        from playwright.async_api import Error as PlaywrightError

        if not target:
            raise ActionFailed("the instruction names no target")
        candidates = self._candidates(target, role, purpose)
        for attempt in range(2):
            for locator in candidates:
                try:
                    if await locator.count():
                        return locator.first
                except PlaywrightError:
                    continue  # e.g. text that is not valid CSS
            if attempt == 0:
                combined = candidates[0]
                for other in candidates[1:]:
                    combined = combined.or_(other)
                try:
                    await combined.first.wait_for(state="attached", timeout=self.timeout * 1000)
                except PlaywrightError:
                    break
        raise ActionFailed(
            f"found no element for {target} (tried a button/link name, a label, a placeholder,"
            " visible text and a CSS selector)"
        )

    async def _wait_for(self, target: str) -> None:
        from playwright.async_api import Error as PlaywrightError

        text, quoted = unquote(target)
        selector = not quoted and bool(_SELECTOR.search(text)) and " " not in text.strip()
        locator = self.page.locator(text) if selector else self.page.get_by_text(text)
        try:
            await locator.first.wait_for(state="visible", timeout=self.timeout * 1000)
        except PlaywrightError:
            raise ActionFailed(f"{target} did not appear within {self.timeout:g} s") from None

    # --- results ----------------------------------------------------------------------------

    async def extract(self, what: str | None) -> Any:
        page = self.page
        if self.model is not None:
            # ``return <what>`` scopes the read (extract.py reads a CSS selector in its prompt).
            return await actions.extract(
                page,
                self.model,
                what or None,
                timeout=self.timeout,
                llm=self.session.llm,
                notes=self.session.notes.action,
            )
        key = (what or "").lower().removeprefix("the ").removeprefix("page ").strip()
        if not key:
            return {"title": await page.title(), "url": page.url,
                    "text": await actions.page_text(page)}  # fmt: skip
        if key == "title":
            return await page.title()
        if key == "url":
            return page.url
        if key == "text":
            return await actions.page_text(page)
        if key == "html":
            return await page.content()
        locator = await self.resolve(what or "", None, "read")
        return await locator.inner_text(timeout=self.timeout * 1000)

    # --- secrets ----------------------------------------------------------------------------

    def _secret(self, name: str) -> str:
        """Return a secret's value, only on a page its allowed_urls match; errors never show it."""
        item = self.secrets.get(name)
        if item is None:
            known = ", ".join(sorted(self.secrets)) or "none"
            raise ActionFailed(f"unknown secret {name!r} (run_task secrets: {known})")
        value = item.get("value") if isinstance(item, dict) else item
        allowed = item.get("allowed_urls") if isinstance(item, dict) else None
        patterns = list(allowed) if allowed else ["*"]
        if "*" not in patterns and not url_allowed(self.page.url, patterns):
            raise ActionFailed(
                f"secret {name!r} may not be used on {self.page.url} (its allowed_urls: {patterns})"
            )
        return str(value)

    def _file(self, name: str) -> str:
        """Return the local path of a task file, named by its id or its file name."""
        paths = self.session.spec.file_paths
        if paths.get(name):
            return paths[name]
        for path in paths.values():
            if path and Path(path).name == name:
                return path
        known = ", ".join(sorted(paths)) or "none (pass files=[...] when opening the session)"
        raise ActionFailed(f"no task file {name!r}; the task's files: {known}")

    def _fill_placeholders(self, text: str, *, for_url: bool = False) -> str:
        if for_url and _PLACEHOLDER.search(text):
            raise ActionFailed("secrets ({{name}}) cannot be used in a URL")
        return _PLACEHOLDER.sub(lambda m: self._secret(m.group(1)), text)
