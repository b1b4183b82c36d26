"""Other WebSocket libraries' APIs, built on wsframe's public API.

Each subpackage reproduces one library's interface so that the programs
written against it run on wsframe's codec unchanged. None is ever importable
under the other library's name by default: `wsframe.compat.wsproto.install`
makes ``import wsproto`` resolve to it, explicitly, for one process.

The codec never imports this package (tests/test_boundary.py checks it):
compatibility stands on the codec, never the reverse.
"""
