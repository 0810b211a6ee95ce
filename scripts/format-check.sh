#!/usr/bin/env bash
# The formatter's check: `swift format lint --strict` (swift-format, part of the Swift toolchain)
# over the package's Swift sources, with the settings of .swift-format at the root. Prints each
# finding as FILE:LINE:COLUMN and exits non-zero when there is any. To fix them:
#   swift format --in-place --recursive --parallel Sources Tests Fuzz Package.swift
#
# .swift-format is swift-format's default configuration with the code's own style: 4-space
# indentation, lines of up to 120 columns, spaces around ..< and ..., and the bodies of #if
# blocks not indented. Four default rules are off:
# - AlwaysUseLowerCamelCase: lint-only, the formatter cannot rename; the tests name a parameter
#   `case_` (a keyword otherwise), and the name is part of each test case's ID.
# - DoNotUseSemicolons: the unrolled kernels (MNISTKernels/SoftmaxKernel.swift) write one weight's
#   multiply-adds of every accumulator on one line, and the pickle fixtures one pickle item per
#   line; splitting them would hide the unrolling's pattern.
# - OneVariableDeclarationPerLine: `var difference = 0.0, scale = ...` declares the pairs that
#   belong together, as the code does throughout.
# - OrderedImports: the platform import (#if canImport(Glibc) ...) comes first, and the README
#   example's `import MNISTSoftmax` sits between its markers in ReadmeExampleTests.swift; the
#   rule would move both.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --parallel Sources Tests Fuzz Package.swift
