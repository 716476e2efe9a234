#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make-seeds.py -- writes the hand-made seed inputs of fuzz_rtp, fuzz_pes and
# fuzz_config into tests/fuzz/corpus/<target>/seed-*. PES and RTP seeds are
# cut from real MPEG-TS files (`scripts/make-media.sh build/media` makes
# them; an MPEG-2 one is made here with ffmpeg when it is installed).
#
# Usage: tests/fuzz/make-seeds.py [MEDIA_DIR]   (default: build/media)
# The seeds are committed; run this again only to change them.
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MAX_LEN = 8192  # tests/fuzz/run.sh's -max_len


def write(target, name, data):
    folder = os.path.join(HERE, 'corpus', target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'seed-' + name), 'wb') as f:
        f.write(data)


def packets(path, limit=20000):
    with open(path, 'rb') as f:
        data = f.read(188 * limit)
    start = data.find(b'\x47')
    for off in range(start, len(data) - 187, 188):
        if data[off] == 0x47:
            yield data[off:off + 188]


def payload(pkt):
    afc = (pkt[3] >> 4) & 3
    if not afc & 1:
        return b''
    off = 4 + (1 + pkt[4] if afc & 2 else 0)
    return pkt[off:] if off < 188 else b''


def streams(path):
    """The first program's streams as {pid: stream_type}, from PAT and PMT."""
    pmt_pid = None
    for pkt in packets(path, 2000):
        pid = ((pkt[1] & 0x1f) << 8) | pkt[2]
        if not pkt[1] & 0x40:
            continue
        p = payload(pkt)
        sec = p[1 + p[0]:] if p else b''
        if pid == 0 and pmt_pid is None and len(sec) > 12:
            pmt_pid = ((sec[10] & 0x1f) << 8) | sec[11]
        elif pid == pmt_pid and len(sec) > 12 and sec[0] == 2:
            length = ((sec[1] & 0x0f) << 8) | sec[2]
            info = ((sec[10] & 0x0f) << 8) | sec[11]
            i, end, found = 12 + info, 3 + length - 4, {}
            while i + 5 <= end:
                found[((sec[i + 1] & 0x1f) << 8) | sec[i + 2]] = sec[i]
                i += 5 + (((sec[i + 3] & 0x0f) << 8) | sec[i + 4])
            return found
    return {}


def pes_units(path, pid, count, cut):
    """The first `count` PES packets of pid, each cut to `cut` bytes."""
    units, cur = [], None
    for pkt in packets(path):
        if ((pkt[1] & 0x1f) << 8) | pkt[2] != pid:
            continue
        if pkt[1] & 0x40:
            if cur is not None:
                units.append(bytes(cur[:cut]))
                if len(units) == count:
                    break
            cur = bytearray()
        if cur is not None:
            cur += payload(pkt)
    return units


def pes_input(control, units):
    out = bytearray([control])
    for audio, u in units:
        out += struct.pack('>H', len(u) | (0x8000 if audio else 0)) + u
    return bytes(out[:MAX_LEN])


def pes_seeds(media):
    # fuzz_pes control bits 0-1: 0 H.264, 1 HEVC, 2 MPEG-2, 3 no video;
    # bits 2-3: 0 AAC, 1 MPEG-1 audio, 2 AC-3, 3 MPEG-2 audio.
    video_sel = {0x1b: 0, 0x24: 1, 0x02: 2, 0x01: 2}
    files = [os.path.join(media, f) for f in ('short.ts', 'hevc.ts', 'radio.ts')]
    tmp = tempfile.mkdtemp()
    mpeg2 = os.path.join(tmp, 'mpeg2.ts')
    try:
        subprocess.run(['ffmpeg', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=1',
                        '-c:v', 'mpeg2video', '-g', '5', '-bf', '2', '-f', 'mpegts', mpeg2], check=True)
        files.append(mpeg2)
    except (OSError, subprocess.CalledProcessError):
        print('make-seeds: no ffmpeg; no MPEG-2 seed', file=sys.stderr)
    for path in files:
        if not os.path.exists(path):
            print('make-seeds: %s missing (scripts/make-media.sh)' % path, file=sys.stderr)
            continue
        name = os.path.splitext(os.path.basename(path))[0]
        found = streams(path)
        video = [(p, t) for p, t in found.items() if t in video_sel]
        audio = [p for p, t in found.items() if t == 0x0f]
        v_units = pes_units(path, video[0][0], 3, 3000) if video else []
        a_units = pes_units(path, audio[0], 2, 300) if audio else []
        control = (video_sel[video[0][1]] if video else 3)
        mixed = [(False, v_units[0])] if v_units else []
        mixed += [(True, u) for u in a_units[:1]] + [(False, u) for u in v_units[1:]] + \
                 [(True, u) for u in a_units[1:]]
        write('pes', name, pes_input(control | (5 << 5), mixed))
        if v_units:
            # the same with random_access_indicator, and the start code cut in 1-byte pieces
            write('pes', name + '-rai', pes_input(control | 0x10, mixed[:2]))
            write('pes', name + '-video', pes_input(control, [(False, u) for u in v_units[:2]]))
    # hand-made: PTS only, PTS+DTS, header cut, and each H.264/HEVC picture type
    pts = b'\x00\x00\x01\xe0\x00\x00\x80\x80\x05\x21\x00\x01\x00\x01'
    dts = b'\x00\x00\x01\xe0\x00\x00\x80\xc0\x0a\x31\x00\x01\x00\x01\x11\x00\x01\x00\x01'
    write('pes', 'h264-idr', pes_input(0, [(False, pts + b'\x00\x00\x00\x01\x09\xf0\x00\x00\x01\x65\x88')]))
    write('pes', 'h264-p', pes_input(0, [(False, dts + b'\x00\x00\x01\x41\x9a')]))
    write('pes', 'hevc-cra', pes_input(1, [(False, pts + b'\x00\x00\x01\x2a\x01\xaf')]))
    write('pes', 'mpeg2-i', pes_input(2, [(False, pts + b'\x00\x00\x01\x00\x00\x0f\xff\xf8')]))
    write('pes', 'ac3-audio', pes_input(3 | (2 << 2), [(True, pts + b'\x0b\x77\x00\x00')]))
    write('pes', 'short-header', pes_input(0, [(False, b'\x00\x00\x01\xe0\x00\x00\x80\xc0\xff\x00')]))


def rtp(seq, payload, flags=0x80, csrc=(), ext=None, pad=0, ts=0):
    head = bytes([flags | len(csrc) | (0x10 if ext is not None else 0) | (0x20 if pad else 0), 33])
    head += struct.pack('>HII', seq & 0xffff, ts, 0x1234) + b''.join(struct.pack('>I', c) for c in csrc)
    if ext is not None:
        head += struct.pack('>HH', 0xbede, len(ext) // 4) + ext
    tail = b'\0' * (pad - 1) + bytes([pad]) if pad else b''
    return head + payload + tail


def datagrams(items):
    return b''.join(struct.pack('>H', len(d)) + d for d in items)


def rtp_seeds(media):
    path = os.path.join(media, 'short.ts')
    pkts = list(packets(path, 40)) if os.path.exists(path) else []
    if not pkts:  # a null packet will do
        pkts = [b'\x47\x1f\xff\x10' + b'\xff' * 184] * 40
    two = lambda i: pkts[i] + pkts[i + 1]
    write('rtp', 'in-order', datagrams([rtp(100 + i, two(2 * i)) for i in range(4)]))
    write('rtp', 'loss-reorder-dup', datagrams([rtp(1, two(0)), rtp(4, two(2)), rtp(3, two(4)), rtp(4, two(4)),
                                                rtp(5, two(6))]))
    write('rtp', 'wrap', datagrams([rtp(0xfffe, pkts[0]), rtp(0xffff, pkts[1]), rtp(0, pkts[2]), rtp(2, pkts[3])]))
    write('rtp', 'restart', datagrams([rtp(10, pkts[0]), rtp(30000, pkts[1]), rtp(30001, pkts[2])]))
    write('rtp', 'csrc-ext-pad', datagrams([rtp(7, pkts[0], csrc=(1, 2)), rtp(8, pkts[1], ext=b'\x10\xaa\x00\x00'),
                                            rtp(9, pkts[2], pad=4), rtp(10, b'')]))
    write('rtp', 'plain-ts-and-junk', datagrams([two(0), b'\x00\x01\x02', rtp(1, b'\x00' * 20), pkts[2][:100],
                                                 pkts[2][100:]]))


CONFIG = {
    # first byte: 0 channel, 1 subscriber, 2 package, 3 EPG source, 4 token key, 5 admin token
    'channel': (0, 'name=demo\ntitle=Demo TV\nnumber=1\ngroup=Films\nlogo=http://example.net/l.png\n'
                   'tvg-id=demo.tv\nsource=file:///srv/media/demo.ts\nsources=udp://@239.1.1.1:1234?iface=eth1\n'
                   'sources=rtp://@239.1.1.2:5000?program=2\nsources=http://example.net:8080/s.ts#program=3\n'
                   'on-demand=true\nidle-timeout=30\nlag-policy=close\nhls-target=4\nhls-window=10\n'
                   'hls-part-ms=500\nfailover-ms=2000\nfailback-s=0'),
    'channel-bad': (0, 'name=Bad Name\nnumber=-1\nnumber=100000\nnumber=1x\non_demand=maybe\nlag_policy=drop\n'
                       'sources=ftp://x\nsources=udp://@239.1.1.1:99999\ntitle=a\x01b\nhls_target=0'),
    'subscriber': (1, 'name=alice\nenabled=yes\nexpires=2027-02-28\nexpires=2027-12-31T23:59:59Z\nexpires=\n'
                      'max_streams=2\nlimit_policy=end-oldest\npackages=sports\npackages=news\n'
                      'allowed_ips=192.0.2.0/24\nallowed_ips=2001:db8::/32\nallowed_ips=198.51.100.7\n'
                      'bind_ip=1\nnotes=paid until March'),
    'subscriber-bad': (1, 'expires=2026-02-30\nexpires=2026-13-01\nexpires=2026-01-01T24:00:00Z\n'
                          'allowed_ips=192.0.2.7/24\nallowed_ips=::ffff:192.0.2.0/120\nallowed_ips=10.0.0.0/33\n'
                          'allowed_ips=/8\nmax_streams=1001\npackages=UPPER'),
    'package': (2, 'name=sports\ntitle=Sports HD\nchannels=demo\nchannels=news-24'),
    'epg-source': (3, 'name=guide\nurl=https://example.net/guide.xml.gz\nrefresh_hours=24\ndays=14\n'
                      'url=/srv/epg/guide.xml\nurl=ftp://no'),
    'token-key': (4, 'name=k0\nname=k255\nname=k256\nsecret=' + '0123456789abcdef' * 4 + '\nsecret=xyz\n'
                     'retired=false'),
    'admin-token': (5, 'name=ci-bot\nhash=' + 'ab' * 32),
    'numbers': (0, 'number=18446744073709551615\nnumber=18446744073709551616\nnumber=00042\nnumber=+5\n'
                   'number= 5\nnumber=\nfailover_ms=9223372036854775808'),
}


def config_seeds():
    for name, (kind, text) in CONFIG.items():
        write('config', name, bytes([kind]) + text.encode())


def main():
    media = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, 'build', 'media')
    pes_seeds(media)
    rtp_seeds(media)
    config_seeds()


if __name__ == '__main__':
    main()
