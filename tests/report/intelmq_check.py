#!/usr/bin/env python3
"""Validates report CSV files under IntelMQ's Shadowserver parser rules (report_schema
intelmq.json): every required field present and valid, every optional field valid when set.
Prints one line per problem (file:line: field: reason) and a summary; exit 1 on any problem,
77 (skipped) when intelmq.json is not available.

Usage: intelmq_check.py INTELMQ_JSON REPORT.csv...
"""
import csv
import datetime
import ipaddress
import json
import os
import re
import sys


def check_value(conv, value):
    """None if `value` passes IntelMQ's converter `conv`, else the reason."""
    if conv in ("convert_int", "invalidate_zero"):
        try:
            int(value)
        except ValueError:
            return "not an integer"
    elif conv == "convert_float":
        try:
            float(value)
        except ValueError:
            return "not a number"
    elif conv == "validate_ip":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return "not an IP address"
    elif conv == "add_UTC_to_timestamp":
        try:
            datetime.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return "not YYYY-MM-DD HH:MM:SS"
    elif conv == "convert_bool":
        if value.lower() not in ("y", "n", "true", "false", "yes", "no", "1", "0", "t", "f"):
            return "not a boolean"
    elif conv == "validate_network":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "not a network"
    return None


def main():
    if len(sys.argv) < 2 or not os.path.exists(sys.argv[1]):
        print("intelmq_check: intelmq.json not found; skipped")
        return 77
    schema = json.load(open(sys.argv[1]))
    by_file = {v.get("file_name"): v for k, v in schema.items() if k != "_meta"}
    problems = rows = 0
    for path in sys.argv[2:]:
        m = re.match(r"^(\d{4}-\d{2}-\d{2})-([^-]+)-(.+)\.csv$", os.path.basename(path))
        if not m:
            print(f"{path}: file name does not follow the report-filename grammar")
            problems += 1
            continue
        rtype = m.group(2)
        rules = by_file.get(rtype)
        if rules is None:
            print(f"{path}: no IntelMQ rules for report type {rtype}")
            problems += 1
            continue
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for field in rules.get("required_fields", []):
                if field[1] not in header:
                    print(f"{path}:1: {field[1]}: required column missing")
                    problems += 1
            for line, row in enumerate(reader, start=2):
                rows += 1
                for kind in ("required_fields", "optional_fields"):
                    for field in rules.get(kind, []):
                        col = field[1]
                        conv = field[2] if len(field) > 2 else None
                        value = row.get(col)
                        if value is None or value == "":
                            if kind == "required_fields":
                                print(f"{path}:{line}: {col}: required value empty")
                                problems += 1
                            continue
                        why = check_value(conv, value)
                        if why:
                            print(f"{path}:{line}: {col}: {why}: {value!r}")
                            problems += 1
    print(f"intelmq_check: {len(sys.argv) - 2} files, {rows} rows, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
