#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make_xmltv.py -- writes a realistic XMLTV guide of about the size asked
# for (default 100 MB), for bench/epg_import.sh: N channels, each with
# programmes back to back from yesterday on, titles, sub-titles,
# descriptions, categories, xmltv_ns episode numbers and icons, times in
# several UTC offsets. Deterministic for a given seed.
#
# Usage: bench/make_xmltv.py [--size-mb 100] [--channels 500] [--seed 1]
#                            [--start UNIX_SECONDS] [--gzip] OUTPUT
import argparse
import gzip
import random
import time

WORDS = ("news weather world sport live today night morning evening late show story city country "
         "house garden kitchen market money road island river mountain ocean wild planet secret "
         "history science family friends doctor police detective murder mystery comedy drama film "
         "classic great british european american space travel journey food chef bake quiz game "
         "champions league final cup match highlights review special report inside outside north "
         "south east west winter summer spring autumn gold silver diamond star life love war peace").split()
EXTRA = ["Ça va", "Zoë's café", "naïve", "Ødegaard", "Müller & Söhne", "Москва", "東京", "<live>", "\"quoted\""]
CATEGORIES = ["News", "Sport", "Film", "Drama", "Comedy", "Documentary", "Children", "Music", "Entertainment",
              "Lifestyle", "Series", "Talk"]
OFFSETS = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0930", "+1245"]


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def words(rng, lo, hi):
    out = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.05:
        out.append(rng.choice(EXTRA))
    return " ".join(out)


def xmltv_time(t, offset):
    sign = -1 if offset[0] == "-" else 1
    secs = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t + secs)) + " " + offset


def channel_xml(i, rng):
    cid = "ch%03d.bench.example" % i
    out = ['  <channel id="%s">\n' % cid,
           '    <display-name lang="en">Channel %d %s</display-name>\n' % (i, esc(words(rng, 1, 2).title())),
           '    <display-name>%d</display-name>\n' % i]
    if rng.random() < 0.8:
        out.append('    <icon src="https://img.example.com/logos/%s.png"/>\n' % cid)
    out.append('  </channel>\n')
    return cid, "".join(out)


def programme_xml(rng, cid, start, stop, offset):
    title = words(rng, 1, 4).capitalize()
    out = ['  <programme start="%s" stop="%s" channel="%s">\n' % (xmltv_time(start, offset), xmltv_time(stop, offset), cid),
           '    <title lang="en">%s</title>\n' % esc(title)]
    if rng.random() < 0.5:
        out.append('    <sub-title lang="en">%s</sub-title>\n' % esc(words(rng, 2, 5).capitalize()))
    out.append('    <desc lang="en">%s.</desc>\n' % esc(words(rng, 20, 90).capitalize()))
    if rng.random() < 0.3:
        out.append('    <credits>\n      <director>%s</director>\n      <actor>%s</actor>\n    </credits>\n'
                   % (esc(words(rng, 2, 2).title()), esc(words(rng, 2, 2).title())))
    out.append('    <category lang="en">%s</category>\n' % rng.choice(CATEGORIES))
    if rng.random() < 0.4:
        out.append('    <icon src="https://img.example.com/p/%08x.jpg"/>\n' % rng.getrandbits(32))
    if rng.random() < 0.6:
        out.append('    <episode-num system="xmltv_ns">%d.%d.</episode-num>\n'
                   % (rng.randint(0, 12), rng.randint(0, 24)))
        out.append('    <episode-num system="onscreen">S%02dE%02d</episode-num>\n'
                   % (rng.randint(1, 12), rng.randint(1, 24)))
    if rng.random() < 0.2:
        out.append('    <previously-shown/>\n')
    out.append('  </programme>\n')
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description="Writes a realistic XMLTV guide of about the size asked for.")
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--channels", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=None, help="first programme (default: yesterday 00:00 UTC)")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("output")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    start0 = a.start if a.start is not None else (int(time.time()) // 86400 - 1) * 86400
    target = int(a.size_mb * 1e6)
    per_channel = target / a.channels

    f = gzip.open(a.output, "wt", encoding="utf-8") if a.gzip else open(a.output, "w", encoding="utf-8")
    with f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
                '<tv source-info-name="make_xmltv.py" generator-info-name="antenne bench">\n')
        ids = []
        for i in range(a.channels):
            cid, xml = channel_xml(i, rng)
            ids.append(cid)
            f.write(xml)
        for cid in ids:
            offset = rng.choice(OFFSETS)
            t, written = start0, 0
            while written < per_channel:
                length = rng.choice((5, 10, 15, 25, 30, 30, 45, 55, 60, 60, 90, 120)) * 60
                xml = programme_xml(rng, cid, t, t + length, offset)
                f.write(xml)
                written += len(xml.encode("utf-8"))
                t += length
        f.write("</tv>\n")


if __name__ == "__main__":
    main()
