"""An optional OpenAI-compatible chat-completions client for the local backend.

It never acts on the page itself: it translates free-form instructions into the deterministic
language of ``server/agent/language.py``, and reads a schema's values from page text when the
DOM extract found nothing. Configured by ``llm_url``/``llm_model`` or SMOOTH_LLM_URL,
SMOOTH_LLM_MODEL and SMOOTH_LLM_API_KEY.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from pytest_smooth._core.constants import ENV_LLM_API_KEY
from pytest_smooth._core.constants import ENV_LLM_MODEL
from pytest_smooth._core.constants import ENV_LLM_URL
from pytest_smooth.server.agent.language import LANGUAGE_SUMMARY
from pytest_smooth.server.page.actions import ActionFailed

LLM_TIMEOUT = httpx.Timeout(60.0, connect=5.0)

_TRANSLATE_PROMPT = (
    "You translate one browser instruction into a browser automation language. The language: "
    + LANGUAGE_SUMMARY
    + ' Answer with JSON only: {"instructions": ["<instruction>", ...]}.'
)
_EXTRACT_PROMPT = (
    "You read values from a web page's text. Answer with JSON only:"
    ' {"result": <a value matching the JSON schema>}. Use null for what the page does not say.'
)


class LLMClient:
    """Chat completions over httpx, JSON replies."""

    def __init__(self, url: str, model: str, api_key: str | None = None) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else f"{base}/chat/completions"
        self.model = model
        self.api_key = api_key

    async def _ask(self, system: str, user: str) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        try:
            async with httpx.AsyncClient(timeout=LLM_TIMEOUT) as client:
                response = await client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ActionFailed(f"the LLM at {self.url} could not be reached: {exc!r}") from None
        if response.status_code != 200:
            raise ActionFailed(
                f"the LLM at {self.url} answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            content = response.json()["choices"][0]["message"]["content"]
            return json.loads(_strip_fence(content))
        except (ValueError, KeyError, IndexError, TypeError):
            raise ActionFailed(
                f"the LLM at {self.url} did not answer with JSON: {response.text[:200]}"
            ) from None

    async def translate(self, instruction: str) -> list[str]:
        """Instructions of the language that do what ``instruction`` says."""
        reply = await self._ask(_TRANSLATE_PROMPT, instruction)
        items = reply.get("instructions") if isinstance(reply, dict) else reply
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ActionFailed(f"the LLM's translation of {instruction!r} is not a list of text")
        return [str(i) for i in items]

    async def extract(self, page_text: str, schema: dict[str, Any], prompt: str | None) -> Any:
        """Values matching ``schema`` read from ``page_text``."""
        user = json.dumps({"schema": schema, "prompt": prompt, "page_text": page_text})
        reply = await self._ask(_EXTRACT_PROMPT, user)
        return reply.get("result") if isinstance(reply, dict) and "result" in reply else reply


def _strip_fence(text: str) -> str:
    """Models often wrap JSON in a ```json fence."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def llm_from_settings(url: str | None, model: str | None) -> LLMClient | None:
    """Return the LLM client the options or the environment configure (None: no LLM)."""
    url = url or os.environ.get(ENV_LLM_URL)
    if not url:
        return None
    model = model or os.environ.get(ENV_LLM_MODEL) or "default"
    return LLMClient(url, model, os.environ.get(ENV_LLM_API_KEY))
