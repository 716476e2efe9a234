# SPDX-License-Identifier: MIT
"""/metrics (issue 5, in part): Prometheus text that a real Prometheus parser
reads (python3-prometheus-client, Debian's), behind the admin token, with
values that move as viewers come and go."""

import re
import signal
import time

from prometheus_client.parser import text_string_to_metric_families

from harness import StreamClient, wait_until


def scrape(srv):
    r = srv.get("/metrics", headers={"Authorization": f"Bearer {srv.admin_token}"})
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4"), r
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_parse_and_move(server, media):
    srv = server()
    assert srv.get("/metrics").status == 401
    srv.add_channel("demo", f"file://{media['demo']}")
    wait_until(lambda: (srv.channel("demo") or {}).get("state") == "up", 15, what="demo up")
    before = scrape(srv)
    assert value(before, "antenne_channel_up", channel="demo") == 1
    assert value(before, "antenne_channel_state", channel="demo", state="up") == 1
    assert value(before, "antenne_channel_state", channel="demo", state="down") == 0
    assert value(before, "antenne_channel_viewers", channel="demo") == 0
    assert value(before, "antenne_build_info", version="0.1.0") == 1
    assert value(before, "antenne_resident_memory_bytes") > 1e6
    assert 0 <= value(before, "antenne_loop_lag_seconds") < 1
    viewer = StreamClient(srv.url("/live/demo.ts"))
    viewer.read_exact(188 * 5000)
    during = scrape(srv)
    assert value(during, "antenne_channel_viewers", channel="demo") == 1
    assert value(during, "antenne_channel_output_bytes_total", channel="demo") >= 188 * 5000
    assert value(during, "antenne_channel_input_bytes_total", channel="demo") > \
        value(before, "antenne_channel_input_bytes_total", channel="demo")
    assert value(during, "antenne_channel_input_bitrate_bits", channel="demo") > 1e6
    assert value(during, "antenne_http_requests_total") > value(before, "antenne_http_requests_total")
    viewer.close()
    wait_until(lambda: value(scrape(srv), "antenne_channel_viewers", channel="demo") == 0, 5,
               what="the viewer gone from the metrics")
    srv.cli_ok("channel", "set", "demo", "--source", "udp://127.0.0.1:9")  # nobody sends there
    time.sleep(0.2)
    wait_until(lambda: value(scrape(srv), "antenne_channel_up", channel="demo") == 0, 10,
               what="demo no longer up in the metrics")


def test_events_list_state_changes(server, media):
    srv = server()
    srv.add_channel("demo", f"file://{media['demo']}")
    wait_until(lambda: (srv.channel("demo") or {}).get("state") == "up", 15, what="demo up")
    events = srv.api("GET", "/api/v1/events?channel=demo").json()["events"]
    assert "up" in [e["kind"] for e in events] and "source" in [e["kind"] for e in events], events
    last = events[0]["id"]
    srv.cli_ok("channel", "set", "demo", "--source", "http://127.0.0.1:9/nothing.ts")  # refused at once
    new = wait_until(lambda: srv.api("GET", f"/api/v1/events?after={last}").json()["events"], 10,
                     what="events after the source change")
    assert all(e["id"] > last and e["channel"] == "demo" for e in new), new
    assert any(e["kind"] in ("starting", "down") for e in new), new
    assert new == sorted(new, key=lambda e: -e["id"]), "newest first"
    assert srv.api("GET", "/api/v1/events?limit=0").status == 400


def test_lag_watchdog_says_what_held_the_loop(server):
    """A request that keeps the loop busy (listing 100 channels with their
    live state, beyond a 2 ms --lag-warn-ms) is named in the log; a process
    that was stopped is told apart: no step of its own was long."""
    srv = server(serve_args=("--lag-warn-ms", "2"))
    for i in range(100):
        r = srv.api("POST", "/api/v1/channels", {"name": f"c{i}", "sources": [f"udp://127.0.0.1:{20000 + i}"],
                                                  "on_demand": True})
        assert r.status == 201, r.body
    # The watchdog sees a step only when it spans the 100 ms tick's due time:
    # list until one has (each listing takes milliseconds; bounded).
    held = r"event loop \d+ ms late: held up by request GET /api/v1/channels for \d+ ms"

    def listed_over_a_tick():
        assert srv.get("/api/v1/channels").status == 200
        return srv.log_lines(held, levels=("warn",))

    wait_until(listed_over_a_tick, 10, interval=0.01, what="a listing that held the loop over a tick")
    lines = srv.wait_log(held, timeout=5)
    print(lines[-1])
    warned = value(scrape(srv), "antenne_loop_lag_warnings_total")
    assert warned >= 1
    srv.proc.send_signal(signal.SIGSTOP)
    time.sleep(0.5)
    srv.proc.send_signal(signal.SIGCONT)
    lines = srv.wait_log(r"event loop \d+ ms late, yet no step of antenne's took long", timeout=5)
    late = int(re.search(r"loop (\d+) ms late", lines[-1]).group(1))
    assert 400 <= late < 5000, lines[-1]
    m = scrape(srv)
    assert value(m, "antenne_loop_lag_warnings_total") > warned
