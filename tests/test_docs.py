"""The documentation shows real output and working code: docs/framing.md is what
its generator writes today (every command in it re-run through the CLI), every
Python block of the README and the docs type-checks under mypy --strict, the
guide's blocks run, and its server and client talk to websockets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from doc_blocks import (
    ROOT,
    markdown_files,
    python_blocks,
    run_against,
    run_block,
    run_command,
    shown_commands,
    tcp_server,
    websockets_client,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_framing_walkthrough_is_current() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import make_framing
    finally:
        sys.path.remove(str(DOCS))
    assert (DOCS / "framing.md").read_text(encoding="utf-8") == make_framing.render(), \
        "run: python docs/make_framing.py"


def test_fragmentation_dissects_the_frames_it_builds() -> None:
    """Section 4 takes apart exactly the bytes its build commands printed (it once
    dissected other, hard-coded bytes and taught "Helho")."""
    text = (DOCS / "framing.md").read_text(encoding="utf-8")
    section = text[text.index("## 4. Fragmentation"):text.index("## 5.")]
    built = [line.replace(" ", "") for line in
             re.findall(r"^\$ wsframe build [^\n]*\n([0-9a-f ]+)\n", section, re.M)]
    dissected = re.findall(r"^\$ wsframe dissect --hex ([0-9a-f]+)\n", section, re.M)
    assert len(built) == 4 and len(dissected) == 2
    assert dissected[0] == built[0] + built[1] + built[2]
    assert dissected[1] == built[0] + built[1] + built[3]
    assert "reassembled from 2 fragments: 'Hello'" in section
    assert "(as text: '?')" in section


# -- every Python block of the README and the docs ---------------------------------

def test_every_python_block_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    """Each block is a file of its own; mypy --strict checks them in one run,
    for the oldest Python wsframe supports."""
    files = []
    for page in markdown_files():
        for number, code in enumerate(python_blocks(page), 1):
            stem = re.sub(r"\W", "_", page.stem.lower())
            path = tmp_path / f"block_{stem}_{number}.py"
            path.write_text(code, encoding="utf-8")
            files.append(path)
    assert len(files) >= 10
    # mypy finds an installed wsframe in site-packages; a checkout installed
    # editable through an import hook (make test-matrix) it finds on MYPYPATH.
    import wsframe
    source = Path(wsframe.__file__).resolve().parent.parent
    env = dict(os.environ)
    if source.name not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = str(source)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
         "--cache-dir", str(tmp_path / ".mypy_cache"), *[path.name for path in files]],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


GUIDE = ["frames", "messages", "connections", "compression", "framing"]


def test_every_python_block_of_the_guide_runs(capsys: Any) -> None:
    """Blocks that define functions define them; the others run their asserts."""
    ran = 0
    for page in GUIDE:
        for number, code in enumerate(python_blocks(DOCS / f"{page}.md"), 1):
            run_block(code, f"docs/{page}.md block {number}")
            ran += 1
    assert ran == 9
    capsys.readouterr()


def guide_block(page: str, number: int) -> dict[str, Any]:
    return run_block(python_blocks(DOCS / f"{page}.md")[number - 1], f"docs/{page}.md")


def test_frames_example_answers_a_violation_with_1002(capsys: Any) -> None:
    from wsframe import MessageWriter, Role
    writer = MessageWriter(Role.CLIENT)
    reply = run_against(guide_block("frames", 1)["serve"], writer.text("hi") + b"\x83\x80abcd")
    assert reply == b"\x88\x15\x03\xea" + b"reserved opcode 0x3"
    assert "TEXT True b'hi'" in capsys.readouterr().out


def test_messages_example_echoes_and_closes() -> None:
    from wsframe import CloseReceived, MessageReader, MessageWriter, Role, TextMessage
    writer = MessageWriter(Role.CLIENT)
    wire = writer.text("héllo", fragment_size=2) + writer.ping(b"p") + writer.close(1001)
    reply = run_against(guide_block("messages", 1)["echo"], wire)
    events = list(MessageReader(Role.CLIENT).feed(reply))
    assert events[0] == TextMessage("héllo")
    assert events[-1] == CloseReceived(1001, "")


def test_connections_server_example_negotiates_compression_with_websockets() -> None:
    serve = guide_block("connections", 1)["serve"]
    with tcp_server(serve) as port, websockets_client(port) as websocket:
        assert [ext.name for ext in websocket.protocol.extensions] == ["permessage-deflate"]
        websocket.send("héllo " * 1000)
        assert websocket.recv(timeout=10) == "héllo " * 1000
        websocket.send(b"\x00\xff" * 10)
        assert websocket.recv(timeout=10) == b"\x00\xff" * 10


def test_connections_server_example_refuses_a_bad_handshake() -> None:
    from wsframe.handshake import client_request
    request, _ = client_request("example.test", "/chat")
    refused = run_against(guide_block("connections", 1)["serve"],
                          request.replace(b"Version: 13", b"Version: 8"))
    assert refused.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in refused


def test_connections_client_is_the_readme_s_and_talks_to_the_guide_server() -> None:
    """The guide's client is the README's (tested there against websockets);
    here it meets the guide's server, permessage-deflate on both sides."""
    assert python_blocks(DOCS / "connections.md")[1] == python_blocks(ROOT / "README.md")[1]
    ask = guide_block("connections", 2)["ask"]
    with tcp_server(guide_block("connections", 1)["serve"]) as port:
        assert ask("127.0.0.1", port, "héllo " * 1000) == "héllo " * 1000
        assert ask("127.0.0.1", port, "hi") == "hi"


def test_compression_example_agrees_on_both_sides() -> None:
    namespace = guide_block("compression", 1)      # its asserts check the RFC 7692 bytes
    assert namespace["client_deflate"].params == namespace["deflate"].params


def test_shown_commands_print_what_the_pages_show() -> None:
    """Every ``$ wsframe ...`` block of the README and the guide (the recorded
    proxy session aside) is re-run: the lines shown are its output, in order
    ("..." marks an excerpt)."""
    checked = 0
    for page in [ROOT / "README.md", *(DOCS / f"{name}.md" for name in ("cli", "install"))]:
        for command, shown in shown_commands(page):
            if command.startswith("wsframe proxy"):
                continue
            output = run_command(command).splitlines()
            position = 0
            for line in shown:
                if line == "...":
                    continue
                assert line in output[position:], (page.name, command, line)
                position = output.index(line, position) + 1
                if "..." not in shown:
                    assert position == shown.index(line) + 1, (page.name, command, line)
            checked += 1
    assert checked >= 3


def test_changelog_names_the_version_the_code_carries() -> None:
    import wsframe
    changelog = (DOCS.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## Unreleased ({wsframe.__version__})" in changelog
    assert "## Versions" in changelog


def test_the_docs_build_covers_every_page_and_every_public_name() -> None:
    """Each page is in a toctree, and the API reference names every public name
    of wsframe (make docs, with warnings as errors, checks the rest)."""
    import wsframe
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        if page.stem != "index":
            assert re.search(rf"^{re.escape(page.stem)}$", index, re.M), \
                f"docs/{page.name}: add '{page.stem}' to a toctree in docs/index.md"
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    for name in wsframe.__all__:
        assert f"wsframe.{name}\n" in api, name


def test_the_sdist_carries_the_docs_and_the_changelog_not_the_built_site() -> None:
    manifest = (DOCS.parent / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert "graft docs" in manifest and "prune docs/_build" in manifest
    assert any(line.startswith("include ") and "CHANGELOG.md" in line.split()
               for line in manifest)
    assert (DOCS.parent / "requirements" / "docs.txt").exists()     # graft requirements


def test_cli_synopsis_names_only_options_the_command_has() -> None:
    """Each option of the command-line page's synopsis is in its subcommand's --help."""
    synopsis = (DOCS / "cli.md").read_text(encoding="utf-8").split("```\n")[1]
    helps: dict[str, str] = {}
    checked = 0
    subcommand = ""
    for line in synopsis.splitlines():
        if line.startswith("wsframe "):
            subcommand = line.split()[1]
        if subcommand not in helps:
            helps[subcommand] = subprocess.run(
                [sys.executable, "-m", "wsframe", subcommand, "--help"], capture_output=True,
                text=True, check=True, cwd=DOCS.parent).stdout
        for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", line.split("#")[0]):
            assert option in helps[subcommand], (subcommand, option)
            checked += 1
    assert checked >= 20


def test_readme_headline_figures_are_the_documentation_s() -> None:
    """The README's results are headlines of the pages' measured figures: each
    decimal and each "N of M" it gives is written in the results pages."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    results = readme[readme.index("## Results"):readme.index("## Documentation")]
    pages = "".join((DOCS / f"{name}.md").read_text(encoding="utf-8")
                    for name in ("conformance", "performance", "uvicorn"))
    figures = re.findall(r"\d+\.\d+|\d+ of (?:the )?\d+", results)
    assert len(figures) >= 10
    for figure in figures:
        assert figure in pages, figure


def test_framing_teaches_masking_and_the_64_bit_length() -> None:
    """For students: masking byte by byte with why clients mask (RFC 6455 10.3),
    and the 64-bit length that section 2's title promises, with real output."""
    text = (DOCS / "framing.md").read_text(encoding="utf-8")
    masking = text[text.index("### Masking, byte by byte"):text.index("## 2.")]
    assert "```python\n" in masking and "section\n10.3" in masking
    assert "byte 0: 'H' 01001000 XOR key[0] 00110111 = 01111111 (48 ^ 37 = 7f)" in masking
    lengths = text[text.index("## 2."):text.index("## 3.")]
    assert "Extended payload length=65536 (64-bit)" in lengths
    assert "the most significant bit of a 64-bit payload length MUST be 0" in lengths


def test_the_development_page_names_every_step_of_ci() -> None:
    """.ci/run runs only commands the documentation describes."""
    steps = re.findall(r"^\s*make ([a-z-]+)", (ROOT / ".ci" / "run").read_text(encoding="utf-8"),
                       re.M)
    page = (DOCS / "development.md").read_text(encoding="utf-8")
    assert "test" in steps and "docs" in steps
    listed = page.split("```")[1]
    for step in steps:
        assert re.search(rf"make {step}(?![\w-])", listed) and f"`make {step}" in page, \
            f"docs/development.md: describe make {step} (in the list and in the CI paragraph)"


def test_the_api_reference_says_of_every_module_whether_it_is_public() -> None:
    """Every module of the package is named in docs/api.rst: documented there
    (public) or listed as internal, so a newcomer can see the public surface."""
    package = DOCS.parent / "wsframe"
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    public = set(re.findall(r"^\.\. automodule:: (\S+)$", api, re.M))
    head, _, _ = api.partition("\nwsframe\n-------\n")
    internal_text = head.split("Every other module is internal", 1)[1]
    named = set(re.findall(r"``(wsframe[\w.]*)``", internal_text))
    modules = set()
    for path in package.rglob("*"):
        if path.suffix not in (".py", ".c") or "compat" in path.relative_to(package).parts[:1]:
            continue
        parts = list(path.relative_to(DOCS.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.add(".".join(parts))
    missing = sorted(m for m in modules if m not in public and m not in named)
    assert not missing, f"docs/api.rst: say whether these are public or internal: {missing}"
    assert not public & named, "a module listed as both public and internal"
    assert {"wsframe", "wsframe.handshake", "wsframe.masking"} <= public
