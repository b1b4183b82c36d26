"""wsframe's capture reader against dpkt, on the same file, in one run.

    python benchmarks/capture_reader.py

The question of issue 15: read capture files with a library (dpkt, scapy,
python-pcapng) or with a small reader of our own? This times the part they
share: read every packet of a pcap file and decode Ethernet/IPv4/TCP down to
ports, sequence number and payload. The file is synthetic (200,000 segments
of a loopback WebSocket conversation, about 60 MB), written to a temporary
folder. Best of 5 rounds each, interleaved.
"""

from __future__ import annotations

import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from wsframe.tools.pcap import decode, read_packets

PACKETS = 200_000


def synthetic(path: Path) -> None:
    """A pcap of Ethernet/IPv4/TCP segments carrying 250-byte payloads."""
    payload = bytes(range(250))
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for n in range(PACKETS):
            tcp = struct.pack(">HHIIHHHH", 40000 + n % 2, 9001, n * 250, 1, 0x5018, 512, 0, 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), n & 0xFFFF,
                             0x4000, 64, 6, 0, bytes((127, 0, 0, 1)), bytes((127, 0, 0, 1)))
            frame = bytes(12) + b"\x08\x00" + ip + tcp + payload
            out.write(struct.pack("<IIII", 1_700_000_000, n, len(frame), len(frame)) + frame)


def ours(path: Path) -> int:
    total = 0
    with path.open("rb") as handle:
        for packet in read_packets(handle):
            segment = decode(packet)
            if segment is not None:
                total += len(segment.payload) + segment.src[1] + segment.seq
    return total


def with_dpkt(path: Path) -> int:
    import dpkt
    total = 0
    with path.open("rb") as handle:
        for _ts, buf in dpkt.pcap.Reader(handle):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.tcp.TCP):
                tcp = ip.data
                total += len(tcp.data) + tcp.sport + tcp.seq
    return total


def main() -> None:
    """Time both readers; print packets per second and the ratio."""
    try:
        import dpkt  # noqa: F401
    except ImportError:
        raise SystemExit("dpkt is not installed (pip install dpkt): nothing to compare") from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.pcap"
        synthetic(path)
        size = path.stat().st_size
        best = {"wsframe": float("inf"), "dpkt": float("inf")}
        results = {}
        for _round in range(5):
            for name, reader in (("wsframe", ours), ("dpkt", with_dpkt)):
                start = time.perf_counter()
                results[name] = reader(path)
                best[name] = min(best[name], time.perf_counter() - start)
        assert results["wsframe"] == results["dpkt"], results
    print(f"{PACKETS:,} packets, {size / 2**20:.1f} MiB, best of 5:")
    for name, seconds in best.items():
        print(f"  {name:8s} {seconds:6.3f} s  {PACKETS / seconds:10,.0f} packets/s")
    print(f"  wsframe / dpkt: {best['dpkt'] / best['wsframe']:.2f}x the speed")


if __name__ == "__main__":
    main()
