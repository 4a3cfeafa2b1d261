"""Micro-benchmark of the email parsing layer (parse + classify only); see docs/subsystems/email.md.

Usage: .venv/bin/python bench/email_parse.py [--rounds N]

Parses a realistic mix N times and prints messages per second: a ~20 KB plain-text mail, an
HTML newsletter-style mail, a Korean Outlook mail (ks_c_5601-1987 body, encoded-word subject,
RFC 2231 Korean file name) and a mail with a ~1 MB log attachment. The ingestion benchmark
(bench/email_ingest.py, later) builds on build_mix().
"""

from __future__ import annotations

import argparse
import base64
import os
import time
from email.message import EmailMessage

from opsdesk.intake.email import classify, parse_message

LINE = "2026-11-28T04:00:00Z web-01 kernel: eth0 link up, 1000 Mbps full duplex\n"


def _plain() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Customer One <customer1@example.com>"
    msg["To"] = "support@opsdesk.example"
    msg["Subject"] = "Disk alarm on db-02"
    msg["Message-ID"] = "<plain-1@example.com>"
    msg["Date"] = "Sat, 28 Nov 2026 04:00:00 +0000"
    msg.set_content("Hello,\n\nthe disk alarm fired again.\n\n" + LINE * 270)  # ~20 KB
    return msg.as_bytes()


def _html() -> bytes:
    msg = EmailMessage()
    msg["From"] = "news@example.net"
    msg["To"] = "support@opsdesk.example"
    msg["Subject"] = "Monthly maintenance window"
    rows = "".join(f"<tr><td>host-{i}</td><td>patched</td></tr>" for i in range(200))
    msg.set_content("Maintenance report")
    msg.add_alternative(f"<html><body><p>Report</p><table>{rows}</table></body></html>", "html")
    return msg.as_bytes()


def _korean() -> bytes:
    subject = base64.b64encode("[긴급] 서버 장애 문의 - 똠방각하".encode("cp949")).decode()
    body = ("안녕하세요. 웹 서버가 응답하지 않습니다. 확인 부탁드립니다.\r\n" * 40).encode("cp949")
    name = "%C0%E5%BE%D6%BA%B8%B0%ED%BC%AD.txt"  # 장애보고서.txt in CP949
    return (
        (
            "From: =?ks_c_5601-1987?B?sejw7bC0?= <kim@example.kr>\r\n"
            "To: support@opsdesk.example\r\n"
            f"Subject: =?ks_c_5601-1987?B?{subject}?=\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="KR"\r\n\r\n--KR\r\n'
            'Content-Type: text/plain; charset="ks_c_5601-1987"\r\n'
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + body
        + (
            "\r\n--KR\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
            f"filename*=ks_c_5601-1987''{name}\r\n\r\nlog\r\n--KR--\r\n"
        ).encode()
    )


def _big_attachment() -> bytes:
    msg = EmailMessage()
    msg["From"] = "ops@example.com"
    msg["To"] = "support@opsdesk.example"
    msg["Subject"] = "Logs attached"
    msg.set_content("Full syslog attached.")
    msg.add_attachment(os.urandom(1024 * 1024), maintype="application", subtype="gzip",
                       filename="syslog.gz")  # fmt: skip
    return msg.as_bytes()


KINDS = {
    "plain 20 KB": _plain(),
    "html": _html(),
    "korean cp949": _korean(),
    "1 MB attachment": _big_attachment(),
}


def build_mix() -> list[bytes]:
    """One big-attachment mail per nine typical ones (plain-heavy, as a support mailbox is)."""
    plain, html, korean, big = KINDS.values()
    return [plain] * 4 + [html] * 2 + [korean] * 3 + [big]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    mix = build_mix()
    for raw in mix:  # warm-up, and a sanity check that the mix parses
        classify(parse_message(raw))
    start = time.perf_counter()
    for _ in range(args.rounds):
        for raw in mix:
            classify(parse_message(raw))
    elapsed = time.perf_counter() - start
    count = args.rounds * len(mix)
    size_mb = sum(len(r) for r in mix) * args.rounds / 1e6
    print(f"parsed {count} messages ({size_mb:.1f} MB) in {elapsed:.2f} s")
    for name, raw in KINDS.items():
        print(f"  {name:<16} {len(raw) / 1024:7.0f} KB  {_rate(raw, args.rounds):7.0f} messages/s")
    print(f"{count / elapsed:.0f} messages/s")


def _rate(raw: bytes, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        classify(parse_message(raw))
    return rounds / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
