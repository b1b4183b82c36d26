"""Tools that do I/O around the codec: capture files and a live TCP tap.

Nothing in the codec imports this package (tests/test_boundary.py checks
it): the codec stays sans-I/O, and these tools only use its public API.

* `wsframe.tools.pcap`: reads pcap and pcapng files packet by packet and
  decodes link layer, IPv4/IPv6 and TCP headers.
* `wsframe.tools.tcp`: reassembles each TCP connection in both directions.
* `wsframe.tools.session`: follows one connection (the HTTP Upgrade, the 101
  answer, roles and permessage-deflate) and dissects both directions.
* `wsframe.tools.capture`: all of it over a capture file
  (``wsframe dissect capture.pcap``).
* `wsframe.tools.proxy`: ``wsframe proxy``, a transparent tap between a
  client and a server.
"""
