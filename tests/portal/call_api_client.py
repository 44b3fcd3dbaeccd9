#!/usr/bin/env python3
"""A client that calls api2 the way Shadowserver's call-api.py does (api_utils): credentials
from $HOME/.shadowserver.api ([api] key, secret, uri), the request a JSON object given on the
command line with "apikey" added last, json.dumps with its default separators, the body and
secret as latin-1 bytes, an HMAC2 header through urllib (which sends it as "Hmac2" and a form
Content-Type), a 45 s timeout. Written for Vantage's tests; not Shadowserver's code.

Usage: call_api_client.py METHOD JSON [pretty]
Exit 1 with "API Exception: ..." on an HTTP error, as call-api.py does.
"""
import configparser
import hashlib
import hmac
import json
import os
import sys
import urllib.request


def main():
    if len(sys.argv) < 3:
        sys.exit("Usage: call_api_client.py method json [pretty]")
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.environ["HOME"], ".shadowserver.api"))
    try:
        request = json.loads(sys.argv[2])
        request["apikey"] = cfg.get("api", "key")
        secret = cfg.get("api", "secret")
        uri = cfg.get("api", "uri")
    except (ValueError, configparser.Error) as e:
        sys.exit("Exception: " + str(e))
    body = json.dumps(request).encode("latin-1")
    mac = hmac.new(secret.encode("latin-1"), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(uri + sys.argv[1], data=body, headers={"HMAC2": mac})
    try:
        with urllib.request.urlopen(req, timeout=45) as resp:
            data = resp.read()
    except Exception as e:  # noqa: BLE001 -- call-api.py reports every failure this way
        sys.exit("API Exception: " + str(e))
    if len(sys.argv) > 3 and sys.argv[3] == "pretty":
        print(json.dumps(json.loads(data), indent=4))
    else:
        print(data.decode("utf-8"))


if __name__ == "__main__":
    main()
