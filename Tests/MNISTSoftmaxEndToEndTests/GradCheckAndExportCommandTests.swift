import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct GradCheckAndExportCommandTests {
    /// The Done-when of gradcheck: on the default model and real MNIST, exit 0 and every Double
    /// difference ≤ 1e-6.
    @Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
    func gradcheckPassesOnTheDefaultModelWithDoubleDifferencesBelow1e6() throws {
        let model = try #require(RealMNIST.defaultModel)
        let run = try CommandRun([
            "gradcheck", "--data-dir", try #require(RealMNIST.directory), "--model", model, "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)\n\(run.standardOutput)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        #expect(report["passed"] as? Bool == true && report["batch"] as? Int == 100)
        let comparisons = try #require(report["comparisons"] as? [[String: Any]])
        #expect(Set(comparisons.compactMap { $0["loss_function"] as? String }) == ["softmax-ce", "sigmoid-bce", "mse"])
        let double = comparisons.filter {
            $0["first"] as? String == "chain-rule" && $0["second"] as? String == "finite-differences"
        }
        #expect(double.count == 3)
        for comparison in double {
            let difference = try #require(comparison["relative_difference"] as? Double)
            #expect(difference <= 1e-6, "\(comparison)")
        }
        let slowdown = try #require(report["slowdown"] as? [[String: Any]])
        #expect(
            slowdown.first?["sample"] as? String != nil
                && slowdown.first?["sample"] as? String != "constructed, p(wrong) = 0.5",
            "a trained model gets some of 100 images confidently wrong: \(slowdown.first ?? [:])")
    }

    /// gradcheck on a small data directory and the zero model: the table, the slowdown rows,
    /// and exit 0; only the cost asked for with --loss.
    @Test func gradcheckPrintsTheTableForOneCostAndExitsZero() throws {
        try withTemporaryDirectory { directory in
            try writeDataDirectory(
                train: try blockDataset(count: 20, seed: 21), test: try blockDataset(count: 10, seed: 22), to: directory
            )
            let run = try CommandRun(["gradcheck", "--data-dir", directory, "--batch", "20", "--loss", "mse"])
            #expect(run.status == 0, "\(run.standardError)")
            let lines = run.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.first == "model      the zero model (W = 0, b = 0), L2 λ = 0")
            #expect(lines.contains { $0.hasPrefix("mse ") } && !lines.contains { $0.hasPrefix("softmax-ce ") })
            #expect(lines.contains { $0.hasPrefix("constructed, p(wrong) = 0.999") })
            #expect(!lines.contains { $0.contains("✗") })
        }
    }

    /// A model so sure of class 0 (b_0 = 800) that p_y underflows to 0 in Double for every
    /// other label: the explicit chain rule's (−1/p_y) · p_y (δ − p) is then ∞ · 0 = NaN, where
    /// the fused p − y stays exact. gradcheck reports the broken comparisons and exits 1.
    @Test func gradcheckExitsOneWhenTheChainRuleBreaksDownOnAnOverconfidentModel() throws {
        try withTemporaryDirectory { directory in
            try writeDataDirectory(
                train: try blockDataset(count: 20, seed: 24), test: try blockDataset(count: 10, seed: 25), to: directory
            )
            var bias = [Float](repeating: 0, count: 10)
            bias[0] = 800
            let model = directory + "/sure.safetensors"
            try SafeTensorsFile.write(
                StoredModel(model: SoftmaxModel(weights: [Float](repeating: 0, count: 7840), bias: bias)), to: model)
            let run = try CommandRun([
                "gradcheck", "--data-dir", directory, "--model", model, "--batch", "20", "--loss", "softmax-ce",
                "--json",
            ])
            #expect(run.status == 1, "\(run.standardError)")
            #expect(
                run.standardError.contains("error: 2 of 3 gradient differences exceed their tolerance"),
                "\(run.standardError)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
            let comparisons = try #require(report["comparisons"] as? [[String: Any]])
            #expect(report["passed"] as? Bool == false)
            #expect(
                comparisons.map { $0["passes"] as? Bool } == [false, true, false],
                "kernel–chain and chain–fd fail: \(comparisons)")
        }
    }

    @Test(arguments: [["--batch", "0"], ["--batch", "10001"], ["--loss", "hinge"]])
    func gradcheckRefusesBadOptionsWithStatus64(arguments: [String]) throws {
        let run = try CommandRun(["gradcheck"] + arguments)
        #expect(run.status == 64, "\(arguments): \(run.standardError)")
    }

    @Test func exportOnnxWritesTheFileAndNotesADeskewModel() throws {
        try withTemporaryDirectory { directory in
            let model = directory + "/m.safetensors", output = directory + "/m.onnx"
            let stored = StoredModel(model: randomModel(scale: 0.1, seed: 23), metadata: ["preprocessing": "deskew"])
            try SafeTensorsFile.write(stored, to: model)
            let run = try CommandRun(["export-onnx", "--model", model, "--output", output])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(run.standardOutput == output + "\n")
            #expect(run.standardError.contains("DESKEWED"), "\(run.standardError)")
            #expect(try FileIO.readAll(output) == ONNXExport.model(for: try SafeTensorsFile.read(model)).serialized())
        }
    }

    @Test func exportOnnxRefusesToOverwriteItsOwnModel() throws {
        let run = try CommandRun(["export-onnx", "--model", "m.safetensors", "--output", "m.safetensors"])
        #expect(
            run.status == 64 && run.standardError.contains("--output names the model file itself"),
            "\(run.standardError)")
    }
}
