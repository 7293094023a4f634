"""Prints the schedule a package's manifest records for its op and whether
`attn-tune list` output lists it: picked_schedule.py MANIFEST LIST."""
import json
import sys


def find(value):
    if isinstance(value, dict):
        if isinstance(value.get("schedule"), str):
            return value["schedule"]
        values = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return None
    for v in values:
        found = find(v)
        if found:
            return found
    return None


schedule = find(json.load(open(sys.argv[1])))
listed = open(sys.argv[2]).read()
print("picked", schedule,
      "listed" if schedule and "\t" + schedule + "\t" in listed
      else "NOT LISTED")
