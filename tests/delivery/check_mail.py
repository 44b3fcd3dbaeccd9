#!/usr/bin/env python3
"""Checks one report mail delivered to a Maildir (used by tests/delivery/smtp_test.sh).

Selects the single message in MAILDIR/new whose Subject equals --subject, then checks its
headers, decrypts it (PGP/MIME) with the test keyring when --encrypted, verifies the
signature when --signed, and compares every expected report attachment byte for byte with
the report file: --zip NAME=PATH (a .zip attachment NAME holding PATH's basename, unzipped
with Info-ZIP unzip), --plain PATH (a text/csv attachment), --link URL (the body carries URL
and no attachment for that report). --body-line LINE must be a line of the text body. Exits 1 with a reason on the first failed check.
"""
import argparse
import email
import email.policy
import email.utils
import os
import re
import subprocess
import sys
import tempfile


def fail(msg):
    print("check_mail: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--subject", required=True)
    ap.add_argument("--message-id")
    ap.add_argument("--to", required=True)
    ap.add_argument("--from-domain", required=True)
    ap.add_argument("--list-id", required=True)
    ap.add_argument("--gnupghome")
    ap.add_argument("--encrypted", action="store_true")
    ap.add_argument("--signed", action="store_true")
    ap.add_argument("--zip", action="append", default=[])
    ap.add_argument("--plain", action="append", default=[])
    ap.add_argument("--link", action="append", default=[])
    ap.add_argument("--body-line", action="append", default=[])
    a = ap.parse_args()

    new = os.path.join(a.maildir, "new")
    matches = []
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if str(msg["Subject"]) == a.subject:
            matches.append((name, raw, msg))
    expect(len(matches) == 1, "expected 1 message with subject %r, found %d" % (a.subject, len(matches)))
    name, raw, msg = matches[0]

    # Headers.
    mid = msg["Message-ID"]
    expect(mid and re.fullmatch(r"<[^@<>\s]+@" + re.escape(a.from_domain) + ">", str(mid)),
           "bad Message-ID %r" % mid)
    if a.message_id:
        expect(str(mid) == a.message_id, "Message-ID %r, log says %r" % (mid, a.message_id))
    date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    expect(date.utcoffset() is not None and date.utcoffset().total_seconds() == 0,
           "Date not UTC: %r" % msg["Date"])
    expect(str(msg["List-Id"]) == "<%s>" % a.list_id, "List-Id %r" % msg["List-Id"])
    expect(str(msg["To"]) == a.to, "To %r" % msg["To"])
    expect(str(msg["Auto-Submitted"]) == "auto-generated", "Auto-Submitted %r" % msg["Auto-Submitted"])
    expect(str(msg["MIME-Version"]) == "1.0", "MIME-Version %r" % msg["MIME-Version"])

    content = msg
    if a.encrypted:
        expect(msg.get_content_type() == "multipart/encrypted", "not multipart/encrypted")
        expect(msg.get_param("protocol") == "application/pgp-encrypted", "wrong protocol param")
        parts = msg.get_payload()
        expect(len(parts) == 2, "multipart/encrypted has %d parts" % len(parts))
        expect(parts[0].get_content_type() == "application/pgp-encrypted", "first part type")
        expect("Version: 1" in parts[0].get_payload(), "no Version: 1")
        expect(parts[1].get_content_type() == "application/octet-stream", "second part type")
        armored = parts[1].get_payload(decode=True)
        expect(b"-----BEGIN PGP MESSAGE-----" in armored, "second part is not armored PGP")
        for r in a.zip + a.plain:
            base = os.path.basename(r.split("=", 1)[-1])
            expect(base.encode() not in raw, "report name %s visible in clear" % base)
        p = subprocess.run(["gpg", "--homedir", a.gnupghome, "--batch", "--status-fd", "2",
                            "--decrypt"], input=armored, capture_output=True)
        expect(p.returncode == 0, "gpg --decrypt failed: " + p.stderr.decode(errors="replace"))
        status = p.stderr.decode(errors="replace")
        if a.signed:
            expect("[GNUPG:] GOODSIG" in status and "[GNUPG:] VALIDSIG" in status,
                   "no good signature: " + status)
        expect(b"\r\n" in p.stdout, "decrypted entity is not CRLF canonical")
        content = email.message_from_bytes(p.stdout, policy=email.policy.default)

    attachments = {}
    body = ""
    for part in content.walk():
        if part.is_multipart():
            continue
        fn = part.get_filename()
        if fn:
            attachments[fn] = part
        elif part.get_content_type() == "text/plain":
            body += part.get_content()

    tmp = tempfile.mkdtemp()
    for spec in a.zip:
        zname, path = spec.split("=", 1)
        expect(zname in attachments, "no attachment %s (have %s)" % (zname, list(attachments)))
        part = attachments[zname]
        expect(part.get_content_type() == "application/octet-stream", "zip content type %s" % part.get_content_type())
        zpath = os.path.join(tmp, zname)
        with open(zpath, "wb") as f:
            f.write(part.get_payload(decode=True))
        t = subprocess.run(["unzip", "-tq", zpath], capture_output=True)
        expect(t.returncode == 0, "unzip -t failed: %s" % t.stdout.decode(errors="replace"))
        listing = subprocess.run(["unzip", "-Z1", zpath], capture_output=True, text=True).stdout.split()
        entry = os.path.basename(path)
        expect(listing == [entry], "zip entries %r, expected [%r]" % (listing, entry))
        data = subprocess.run(["unzip", "-p", zpath, entry], capture_output=True).stdout
        with open(path, "rb") as f:
            expect(data == f.read(), "unzipped %s differs from the report file" % entry)
    for path in a.plain:
        csv_name = os.path.basename(path)
        expect(csv_name in attachments, "no attachment %s (have %s)" % (csv_name, list(attachments)))
        part = attachments[csv_name]
        expect(part.get_content_type() == "text/csv", "csv content type %s" % part.get_content_type())
        with open(path, "rb") as f:
            expect(part.get_payload(decode=True) == f.read(), "attachment %s differs" % csv_name)
    for line in a.body_line:
        expect(line in body.splitlines(), "body lacks the line %r" % line)
    for url in a.link:
        expect(url in body, "body lacks download link %s" % url)
    expect(len(attachments) == len(a.zip) + len(a.plain),
           "unexpected attachments: %s" % list(attachments))
    print("check_mail: ok: %s (%s)" % (a.subject, name))


if __name__ == "__main__":
    main()
