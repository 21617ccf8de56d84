#!/usr/bin/python3
"""Parses the Authentication-Results fields authres_sample prints with
Debian's python3-authres and checks each method's result and properties:
the header postern writes must read the same to an independent parser."""
import subprocess
import sys

import authres

EXPECTED = [
    [("spf", "pass", {"smtp.mailfrom": "alice@example.com"}),
     ("dkim", "pass", {"header.d": "example.com", "header.s": "sel1", "header.b": "dGVzdHNp"}),
     ("dmarc", "pass", {"header.from": "example.com"})],
    [("spf", "fail", {"smtp.helo": "[192.0.2.1]"}),
     ("dkim", "fail", {"header.d": "example.com", "header.s": "sel1", "header.b": "aGVsbG8/d29yb"}),
     ("dkim", "policy", {"header.d": "example.com", "header.s": "sel2", "header.b": "aGVsbG8/d29yx"}),
     ("dmarc", "fail", {"header.from": "example.com"})],
    [("spf", "softfail", {"smtp.mailfrom": "bounce@other.example"}),
     ("dkim", "none", {}),
     ("dmarc", "fail", {"header.from": "news.example.com"})],
    [("spf", "neutral", {"smtp.mailfrom": "q@quarantine.example"}),
     ("dkim", "none", {}),
     ("dmarc", "fail", {"header.from": "quarantine.example"})],
    [("spf", "none", {"smtp.mailfrom": "x@nodmarc.example"}),
     ("dkim", "none", {}),
     ("dmarc", "none", {"header.from": "nodmarc.example"})],
    [("spf", "pass", {"smtp.mailfrom": "a@example.com"}),
     ("dmarc", "permerror", {})],
]


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True).stdout.decode()
    fields = [f for f in out.split("--\n") if f.strip()]
    assert len(fields) == len(EXPECTED), f"{len(fields)} fields, expected {len(EXPECTED)}"
    for n, (field, expected) in enumerate(zip(fields, EXPECTED), 1):
        for line in field.split("\r\n"):
            width = len(line.expandtabs(8))
            assert width <= 78, f"field {n}: a line of {width} columns: {line!r}"
        parsed = authres.AuthenticationResultsHeader.parse(field.replace("\r\n", "\n").strip())
        assert parsed.authserv_id == "mx.postern.test", (n, parsed.authserv_id)
        got = [(r.method, r.result,
                {f"{p.type}.{p.name}": p.value for p in r.properties}) for r in parsed.results]
        assert got == expected, f"field {n}:\n{field}\nparsed as {got}\nexpected {expected}"
        print(f"field {n}: {len(got)} results as expected")
    print(f"{len(fields)} Authentication-Results fields parsed by python3-authres")


if __name__ == "__main__":
    main()
