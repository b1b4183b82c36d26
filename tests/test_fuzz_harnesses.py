"""The fuzz harnesses without atheris: every generated seed passes its target's
oracle, and each oracle catches the class of defect it is there for (a
codec with the defect put back fails it), so a quiet fuzzing run means
something. The fuzzers themselves run in `make fuzz-quick`."""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import contract  # noqa: E402
import harness_capture  # noqa: E402
import harness_compat  # noqa: E402
import harness_connection  # noqa: E402
import harness_deflate  # noqa: E402
import harness_handshake  # noqa: E402
import make_corpus  # noqa: E402
from test_fuzz_regressions import TARGETS  # noqa: E402

from wsframe import Connection, ProtocolError, Role  # noqa: E402
from wsframe.extensions.permessage_deflate import PerMessageDeflate  # noqa: E402
from wsframe.handshake import HandshakeError, server_response  # noqa: E402


@pytest.mark.parametrize("target", make_corpus.TARGETS)
def test_every_seed_passes_its_oracle(target: str) -> None:
    seeds = list(make_corpus.SEEDS[target]())
    assert len(seeds) >= 20
    for seed in seeds:
        TARGETS[target](seed)


def test_seeds_reach_past_the_first_check() -> None:
    """The seeds are not all refused at the door: valid requests, exchanges
    and captures are among them."""
    assert any(b"101 Switching Protocols" in seed for seed in make_corpus.handshake_seeds())
    assert any(seed[1:5] == b"\xd4\xc3\xb2\xa1" for seed in make_corpus.capture_seeds())


# -- the contract itself ----------------------------------------------------------------

def test_pieces_cover_the_data_in_order() -> None:
    data = bytes(range(50))
    for cuts in ([], [0], [50], [7, 7, 3], [65535, 12, 1]):
        parts = contract.pieces(data, cuts)
        assert b"".join(parts) == data
        assert all(parts)
    assert contract.pieces(b"", [3, 9]) == [b""]


def test_input_reads_zeros_past_its_end() -> None:
    source = contract.Input(b"\x02\x02\x00\x05")
    assert source.byte() == 2
    assert source.cuts() == [5, 0]
    assert source.rest() == b""
    assert source.byte() == 0


def test_only_names_what_escaped() -> None:
    with pytest.raises(contract.Escaped, match=r"parse: zlib\.error escaped"), \
            contract.only((ProtocolError,), "parse"):
        raise zlib.error("bad")
    with pytest.raises(HandshakeError), contract.only((HandshakeError,), "parse"):
        raise HandshakeError("allowed")


def test_check_memory_catches_a_hog() -> None:
    held, peak = contract.peak_memory(lambda: bytearray(4 * contract.MiB))
    assert len(held) == 4 * contract.MiB
    with pytest.raises(contract.Unbounded):
        contract.check_memory(peak, contract.MiB, "hog")
    contract.check_memory(peak, 8 * contract.MiB, "hog")


# -- each oracle catches its defect ---------------------------------------------------------

def _seed(target: str, keep: Callable[[bytes], bool] = lambda seed: True) -> bytes:
    return next(seed for seed in make_corpus.SEEDS[target]() if keep(seed))


def test_handshake_oracle_catches_an_escaping_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed("handshake", lambda seed: seed.endswith(b"Version: 13\r\n\r\n"))
    harness_handshake.check(seed)

    def broken(head: Any) -> str:
        raise AttributeError("'str' object has no attribute 'start_line'")

    monkeypatch.setattr(harness_handshake, "check_request", broken)
    with pytest.raises(contract.Escaped, match="check_request: AttributeError"):
        harness_handshake.check(seed)


def test_handshake_oracle_catches_an_answer_the_client_refuses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed("handshake", lambda seed: b"permessage-deflate; client_max" in seed
                 and seed.startswith(b"\x00\x00GET"))
    harness_handshake.check(seed)

    answer = "permessage-deflate; server_max_window_bits=20"

    class Agreement:
        def header(self) -> str:
            return answer

    def broken(header: str, **wishes: Any) -> tuple[str, PerMessageDeflate] | None:
        return answer, PerMessageDeflate(Role.SERVER)

    monkeypatch.setattr(harness_handshake, "accept_offer", broken)
    monkeypatch.setattr(harness_handshake, "negotiate", lambda header, **wishes: Agreement())
    with pytest.raises(AssertionError, match="the client refuses the answer"):
        harness_handshake.check(seed)


class _Inflater:
    """A message transform with a defect: zlib.error escapes, or the output
    depends on how the payload was cut."""

    def __init__(self, defect: str) -> None:
        self.defect = defect

    def feed(self, data: bytes, final: bool, limit: int | None) -> bytes:
        if self.defect == "zlib":
            raise zlib.error("Error -3 while decompressing data: invalid block type")
        return bytes([len(data) & 0xFF]) if final else b""


def _deflate_with(defect: str) -> type[PerMessageDeflate]:
    class Broken(PerMessageDeflate):
        def incoming(self, opcode: Any, rsv: int) -> Any:
            return _Inflater(defect) if rsv else None

    return Broken


def test_deflate_oracle_catches_zlib_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed("deflate", lambda seed: not seed[0] & 0x40)
    harness_deflate.check(seed)
    monkeypatch.setattr(harness_deflate, "PerMessageDeflate", _deflate_with("zlib"))
    with pytest.raises(contract.Escaped, match=r"zlib\.error escaped"):
        harness_deflate.check(seed)


def test_deflate_oracle_catches_split_dependence(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = bytes.fromhex("c20763000001020304")      # a compressed frame, client role
    seed = bytes([0x06, 1, 0, 5]) + stream
    harness_deflate.check(seed)
    monkeypatch.setattr(harness_deflate, "PerMessageDeflate", _deflate_with("split"))
    with pytest.raises(AssertionError, match="split invariance"):
        harness_deflate.check(seed)


def test_connection_oracle_catches_a_missing_close_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = bytes([0x01, 0]) + b"\x81\x05Hello"         # server role, an unmasked frame: 1002
    harness_connection.check(seed)

    class Mute(Connection):
        def fail(self, error: ProtocolError) -> None:
            super().fail(error)
            self.data_to_send()                          # the Close frame is lost

    monkeypatch.setattr(harness_connection, "Connection", Mute)
    with pytest.raises(AssertionError, match="without sending a Close frame"):
        harness_connection.check(seed)


def test_capture_oracle_catches_struct_error_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed("capture", lambda seed: seed[0] == 0)
    harness_capture.check(seed)

    def crashing(*args: Any, **kwargs: Any) -> Any:
        raise struct.error("unpack requires a buffer of 20 bytes")

    monkeypatch.setattr(harness_capture, "dissect_capture", crashing)
    with pytest.raises(contract.Escaped, match=r"struct\.error escaped"):
        harness_capture.check(seed)

    def hoarding(*args: Any, **kwargs: Any) -> Any:
        held = [bytes(64 * contract.MiB)]
        yield from ()
        assert held

    monkeypatch.setattr(harness_capture, "dissect_capture", hoarding)
    with pytest.raises(contract.Unbounded):
        harness_capture.check(seed)


def _kind_of(request: list[bytes]) -> Any:
    """The kind the capture reader gives a connection whose client sends
    ``request`` (in these TCP segments) and whose server answers 101."""
    answer = server_response(make_corpus.KEY)
    capture = harness_capture.connection([*request, answer], [0] * len(request) + [1], 0x03)
    return harness_capture._report(capture, None, None)["connections"][0]["kind"]


def test_a_request_in_one_segment_is_websocket() -> None:
    assert _kind_of([make_corpus.requests()[0]]) == "websocket"


def test_a_request_cut_after_get_is_still_websocket() -> None:
    """Found by fuzz_capture: the kind was decided on the first segment alone."""
    request = make_corpus.requests()[0]
    assert _kind_of([request[:3], request[3:]]) == "websocket"


# -- the files the engines read (checked in full, with a build, by make fuzz-quick) ----------

ENGINE_FILES = FUZZ.parent / ".clusterfuzzlite"


@pytest.mark.skipif(not ENGINE_FILES.exists(), reason="the sdist carries no .clusterfuzzlite/")
def test_engine_files_and_dictionary_are_what_check_build_assumes(tmp_path: Path) -> None:
    import check_build

    check_build.check_project_files()
    check_build.check_dictionary(FUZZ / "websocket.dict")
    tokens = [line for line in (FUZZ / "websocket.dict").read_text().splitlines()
              if line.startswith('"')]
    assert '"permessage-deflate"' in tokens and '"\\x0d\\x0a\\x0d\\x0a"' in tokens
    bad = tmp_path / "bad.dict"
    bad.write_text('"ok"\nnot quoted\n')
    with pytest.raises(SystemExit, match=r"bad\.dict:2"):
        check_build.check_dictionary(bad)


def test_compat_oracle_catches_an_escaping_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed("compat")
    harness_compat.check(seed)
    from wsframe.compat.wsproto import WSConnection

    def broken(self: WSConnection, data: bytes | None) -> None:
        raise UnicodeDecodeError("ascii", b"\xe6", 0, 1, "ordinal not in range(128)")

    monkeypatch.setattr(WSConnection, "receive_data", broken)
    with pytest.raises(contract.Escaped, match="UnicodeDecodeError escaped"):
        harness_compat.check(seed)
