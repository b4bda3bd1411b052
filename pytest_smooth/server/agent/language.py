"""The deterministic instruction language of the local backend's ``run_task``.

A task is instructions, one per line or separated by ``;`` or `` then `` (separators inside
quotes or JSON are kept). Case does not matter; a leading ``1.`` / ``-`` / ``and`` is ignored.

====================================  ============================================================
``go to <url>``                       navigate (also ``goto``, ``open``, ``visit``, ``navigate to``)
``click <target>``                    click a button, link or any element
``type <text> into <target>``         fill a field (also ``fill <target> with <text>``)
``press <key>`` [``in <target>``]     a key such as ``Enter``, ``Tab``, ``Control+A``
``select <option> in <target>``       choose an option of a ``<select>`` (by label or value)
``check <target>`` / ``uncheck ...``  tick or clear a checkbox or radio button
``wait for <text or selector>``       wait until it is visible
``wait <N> ms`` / ``wait <N> s``      pause
``extract`` / ``return [<what>]``     the result: the response_model extracted from the page, else
                                      ``title``, ``url``, ``text``, a target's text, or (bare)
                                      ``{"title", "url", "text"}``
``call tool <name> [with <json>]``    call a client tool (``custom_tools``); its output is a result
``fill secret <name> into <target>``  type a run_task secret (only where its allowed_urls match)
``upload <file> into <target>``       set a file input to a task file (its id or file name)
====================================  ============================================================

Targets: ``"quoted text"`` (a button or link name, a label, a placeholder or visible text, in
that order), a CSS selector (``#email``, ``.item > a``, ``input[name=q]``), or unquoted text.
A trailing ``button`` / ``link`` / ``field`` / ``checkbox`` narrows the role. ``{{name}}`` in
typed text is replaced by the run_task secret ``name``. The task's value is its last result
(or, with a response_model and no result, an extract at the end).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LLM_HELP = (
    "For free-form tasks, point the local backend at an OpenAI-compatible endpoint:"
    " SMOOTH_LLM_URL (e.g. http://127.0.0.1:11434/v1), SMOOTH_LLM_MODEL and, if needed,"
    " SMOOTH_LLM_API_KEY (or LocalServer(llm_url=..., llm_model=...))."
)
LANGUAGE_SUMMARY = (
    "go to <url>; click <target>; type <text> into <target>; press <key>;"
    " select <option> in <target>; check <target>; uncheck <target>;"
    " wait for <text or selector>; wait <N> ms|s; extract; return <title|url|text|target>;"
    " call tool <name> with <json>; fill secret <name> into <target>;"
    ' upload <file> into <target>. Targets: "quoted text", a label, a placeholder or a CSS'
    " selector. Separate instructions with new lines, ';' or"
    " ' then '."
)


@dataclass(frozen=True)
class Instruction:
    """One parsed instruction. ``verb`` is one of VERBS."""

    verb: str
    target: str | None = None
    text: str | None = None
    value: Any = None
    role: str | None = None
    source: str = ""


VERBS = frozenset(
    {"goto", "click", "type", "press", "select", "check", "uncheck", "wait_for", "wait",
     "extract", "call_tool", "fill_secret", "upload"}
)  # fmt: skip


class UnknownInstruction(ValueError):
    """The text is not in the instruction language."""


def unsupported_message(lines: list[str]) -> str:
    """Build the 400 message for instructions the local backend does not understand."""
    shown = "; ".join(repr(line) for line in lines[:3])
    return (
        f"the local backend cannot run {shown}: without an LLM it understands only its"
        f" deterministic instruction language: {LANGUAGE_SUMMARY} {LLM_HELP}"
    )


def split_instructions(task: str) -> list[str]:
    """Split a task at new lines, ``;`` and `` then `` (outside quotes and brackets)."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    depth = 0
    i = 0
    lower = task.lower()
    while i < len(task):
        ch = task[i]
        if quote:
            if ch == "\\" and i + 1 < len(task):
                current.append(task[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'" and (i == 0 or not task[i - 1].isalnum()):
            quote = ch  # an apostrophe inside a word ("don't") is not a quote
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth = max(0, depth - 1)
        elif depth == 0 and (ch in "\n;" or lower.startswith(" then ", i)):
            parts.append("".join(current))
            current = []
            i += 1 if ch in "\n;" else len(" then ")
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    cleaned = [_clean(p) for p in parts]
    return [p for p in cleaned if p]


def _clean(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^(?:\d+[.)]|[-*•])\s+", "", text)
    text = re.sub(r"^(?:and|then|finally|first|next)\b[\s,]*", "", text, flags=re.IGNORECASE)
    if text.endswith(".") and not re.search(r"\.\w+\.$", text) and text.count('"') % 2 == 0:
        text = text[:-1].rstrip()  # a sentence's full stop, not part of a selector or URL
    return text


def unquote(text: str) -> tuple[str, bool]:
    """``"x"`` / ``'x'`` -> (x, True); anything else stripped -> (text, False)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1].replace('\\"', '"').replace("\\'", "'"), True
    return text, False


_ROLE_WORDS = {
    "button": "button",
    "link": "link",
    "field": "textbox",
    "input": "textbox",
    "box": "textbox",
    "textbox": "textbox",
    "checkbox": "checkbox",
    "radio": "radio",
    "dropdown": "combobox",
    "select": "combobox",
    "tab": "tab",
}


def parse_target(text: str) -> tuple[str, str | None]:
    """Split a target text into (target, role hint); quotes are kept for the resolver."""
    text = re.sub(r"^(?:on|the|at)\s+", "", text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)
    match = re.match(r"^(\".*\"|'.*'|.+?)\s+(\w+)$", text)
    if match and match.group(2).lower() in _ROLE_WORDS:
        return match.group(1), _ROLE_WORDS[match.group(2).lower()]
    return text, None


def _split_last(text: str, words: tuple[str, ...]) -> tuple[str, str] | None:
    """Split ``text`` at the last `` <word> `` outside quotes."""
    best: tuple[int, int] | None = None
    for word in words:
        for match in re.finditer(rf"\s+{word}\s+", text, flags=re.IGNORECASE):
            before = text[: match.start()]
            if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
                if best is None or match.start() > best[0]:
                    best = (match.start(), match.end())
    if best is None:
        return None
    return text[: best[0]], text[best[1] :]


# Builds the instruction of one matched form (None: the text does not fit after all).
Build = Callable[[re.Match[str], str], Instruction | None]


def _targeted(verb: str, target_text: str, src: str, text: str | None = None) -> Instruction:
    target, role = parse_target(target_text)
    return Instruction(verb, target, text, role=role, source=src)


def _text_and_target(verb: str, words: tuple[str, ...], *, text_first: bool = True) -> Build:
    """Build ``<text> <word> <target>`` (or ``<target> <word> <text>``), split at the last word."""

    def build(match: re.Match[str], src: str) -> Instruction | None:
        split = _split_last(match.group(1), words)
        if split is None:
            return None  # e.g. "type" with no "into": maybe another verb's form
        text, target = split if text_first else (split[1], split[0])
        return _targeted(verb, target, src, unquote(text)[0])

    return build


def _named_into(verb: str) -> Build:
    """Build ``<name> into <target>`` (a secret's or a file's name)."""
    return lambda match, src: _targeted(verb, match.group(2), src, unquote(match.group(1))[0])


def _press(match: re.Match[str], src: str) -> Instruction:
    split = _split_last(match.group(1), ("in", "on"))
    key, on = (split[0], split[1]) if split else (match.group(1), None)
    return Instruction("press", on, unquote(key)[0], source=src)


def _check(match: re.Match[str], src: str) -> Instruction:
    verb = "uncheck" if match.group(1).lower().startswith("un") else "check"
    return _targeted(verb, match.group(2), src)


def _wait(match: re.Match[str], src: str) -> Instruction:
    factor = 0.001 if match.group(2).lower().startswith("m") else 1.0
    return Instruction("wait", value=float(match.group(1)) * factor, source=src)


def _call_tool(match: re.Match[str], src: str) -> Instruction:
    return Instruction(
        "call_tool", text=match.group(1), value=_tool_input(match.group(2)), source=src
    )


def _extract(match: re.Match[str], src: str) -> Instruction:
    what = match.group(1)
    return Instruction("extract", target=unquote(what)[0] if what else None, source=src)


# Tried in order: the first pattern whose builder returns an instruction wins.
_FORMS: list[tuple[re.Pattern[str], Build]] = [
    (re.compile(r"^(?:go\s*to|goto|open|visit|navigate\s+to|load)\s+(\S.*)$", re.I),
     lambda m, src: Instruction("goto", text=unquote(m.group(1))[0], source=src)),
    (re.compile(r"^fill\s+secret\s+(\S+)\s+(?:into|in)\s+(.+)$", re.I),
     _named_into("fill_secret")),
    (re.compile(r"^(?:upload|attach)\s+(.+?)\s+(?:into|to|in)\s+(.+)$", re.I),
     _named_into("upload")),
    (re.compile(r"^(?:type|enter|write)\s+(.+)$", re.I),
     _text_and_target("type", ("into", "in"))),
    (re.compile(r"^fill(?:\s+in)?\s+(.+)$", re.I),
     _text_and_target("type", ("with",), text_first=False)),
    (re.compile(r"^(?:click|tap)(?:\s+on)?\s+(.+)$", re.I),
     lambda m, src: _targeted("click", m.group(1), src)),
    (re.compile(r"^press\s+(.+)$", re.I), _press),
    (re.compile(r"^(?:select|choose)\s+(.+)$", re.I),
     _text_and_target("select", ("in", "from"))),
    (re.compile(r"^(check|tick|uncheck|untick)\s+(.+)$", re.I), _check),
    (re.compile(r"^wait\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)$", re.I), _wait),
    (re.compile(r"^wait\s+(?:for|until)\s+(.+)$", re.I),
     lambda m, src: _targeted("wait_for", m.group(1), src)),
    (re.compile(r"^call\s+(?:the\s+)?tool\s+([\w.-]+)(?:\s+with\s+(.+))?$", re.I | re.S),
     _call_tool),
    (re.compile(r"^(?:extract|return)(?:\s+(.*))?$", re.I | re.S), _extract),
]  # fmt: skip


def parse_instruction(line: str) -> Instruction:
    """Parse one instruction; raise UnknownInstruction when it is not in the language."""
    src = line.strip()
    for pattern, build in _FORMS:
        match = pattern.match(src)
        instruction = build(match, src) if match else None
        if instruction is not None:
            return instruction
    raise UnknownInstruction(src)


def _tool_input(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise UnknownInstruction(f"call tool ... with {text}: the input is not JSON") from None
    if not isinstance(value, dict):
        raise UnknownInstruction(f"call tool ... with {text}: the input must be a JSON object")
    return value


def parse_instructions(task: str) -> tuple[list[Instruction | str], list[str]]:
    """Parse every instruction: a list where unknown ones stay as their text, and those texts."""
    items: list[Instruction | str] = []
    unknown: list[str] = []
    for text in split_instructions(task):
        try:
            items.append(parse_instruction(text))
        except UnknownInstruction:
            items.append(text)
            unknown.append(text)
    return items, unknown
