#!/usr/bin/env python3
"""The last line of scripts/test.sh: how many tests this run skipped, and why.

    skipped_tests.py REPORT [--interop-log FILE]

REPORT is Swift Testing's xUnit report of the run (`swift test --xunit-output NAME.xml` writes it
as NAME-swift-testing.xml): each skipped test is a <skipped> element holding the reason its
`.enabled(if:)` trait gave, such as "no MNIST data: set MNIST_DATA_DIR, ...". The interop test
(scripts/interop_test.py) prints "interop: skipped, no MNIST data ..." instead; its log, when it
exists (the interop test does not run after a failure), adds it to the count of that reason.
Prints one line per reason, most frequent first, or "0 tests skipped". Exits 1 when the report
is missing or unreadable.
"""
import argparse
import collections
import os
import xml.etree.ElementTree as ElementTree

NO_DATA = "no MNIST data"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--interop-log")
    arguments = parser.parse_args()
    try:
        reasons = [element.text or "no reason given" for element in ElementTree.parse(arguments.report).iter("skipped")]
    except (OSError, ElementTree.ParseError) as error:
        raise SystemExit(f"skipped tests unknown: cannot read the test report ({error})")
    # "no MNIST data: set MNIST_DATA_DIR, ..." -> ("no MNIST data", "set MNIST_DATA_DIR, ...")
    counts = collections.Counter(tuple(reason.split(": ", 1)) if ": " in reason else (reason, "") for reason in reasons)
    if arguments.interop_log and os.path.exists(arguments.interop_log):
        with open(arguments.interop_log, encoding="utf-8") as log:
            if "interop: skipped, no MNIST data" in log.read():
                detail = next((d for s, d in counts if s == NO_DATA), "set MNIST_DATA_DIR")
                counts[(NO_DATA, detail)] += 1
    if not counts:
        print("0 tests skipped")
    for (subject, detail), count in counts.most_common():
        print(f"{count} test{'' if count == 1 else 's'} skipped: {subject}" + (f" ({detail})" if detail else ""))


if __name__ == "__main__":
    main()
