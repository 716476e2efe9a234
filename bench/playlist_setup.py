#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/playlist_setup.py -- for bench/playlist.sh: fill a fresh antenne with N on-demand channels, one package
# holding them all, one subscriber of that package and a token, through the admin API.
#
#   playlist_setup.py --port PORT --admin-token T [--channels 2000] [--channels-exist] [--subscriber u] [--password p]
#
# Channels chNNNN ("Channel N", number N, groups G1..G20, tvg-id chN.tv, a logo URL), all on-demand with a
# multicast source, so none runs; with --channels-exist they are already there (bench/playlist.sh adds them
# with `antenne channel add` before the server starts, which is faster: each API write makes the server
# re-apply the whole channel list). Requests go one after another on one keep-alive connection (the API
# answers each write once it is stored). Prints, for the calling script, lines KEY=VALUE:
#   channels_s=SECONDS   time spent creating the channels (0 with --channels-exist)
#   playlist_url=URL     the token's playlist URL, as the API returned it
#   token=T
# Standard library only.
import argparse
import http.client
import json
import sys
import time


class Api:
    def __init__(self, port, token):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=self.headers)
                resp = self.conn.getresponse()
                text = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # the server may close a keep-alive connection; one fresh try
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        if resp.status >= 300:
            sys.exit(f"playlist_setup: {method} {path}: HTTP {resp.status}: {text[:300]!r}")
        return json.loads(text) if text else None


def main():
    ap = argparse.ArgumentParser(description="fill antenne for bench/playlist.sh")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--channels", type=int, default=2000)
    ap.add_argument("--channels-exist", action="store_true", help="the channels are there already")
    ap.add_argument("--subscriber", default="u")
    ap.add_argument("--password", default="p")
    a = ap.parse_args()

    api = Api(a.port, a.admin_token)
    names = [f"ch{i:04d}" for i in range(1, a.channels + 1)]
    t0 = time.monotonic()
    for i, name in enumerate([] if a.channels_exist else names, 1):
        api.call("POST", "/api/v1/channels", {
            "name": name,
            "title": f"Channel {i}",
            "number": i,
            "group": f"G{(i - 1) % 20 + 1}",
            "tvg_id": f"ch{i}.tv",
            "logo": f"http://logo.example/{i}.png",
            "sources": ["udp://@239.1.1.1:1234"],
            "on_demand": True,
        })
    print(f"channels_s={time.monotonic() - t0:.1f}")
    api.call("POST", "/api/v1/packages", {"name": "all", "channels": names})
    api.call("POST", "/api/v1/subscribers", {
        "name": a.subscriber, "password": a.password, "packages": ["all"], "max_streams": 0,
    })
    tok = api.call("POST", f"/api/v1/subscribers/{a.subscriber}/tokens", {})
    print(f"playlist_url={tok['playlist_url']}")
    print(f"token={tok['token']}")


if __name__ == "__main__":
    main()
