import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// `train` recording the history and `report` drawing it, through the executable.
struct ReportCommandTests {
    /// train records every epoch's metrics as it printed them; report draws them and, for a model
    /// file without the history, still writes its page.
    @Test func trainRecordsTheHistoryThatReportDraws() throws {
        try withTemporaryDirectory { directory in
            try writeDataDirectory(
                train: try blockDataset(count: 300, seed: 21), test: try blockDataset(count: 60, seed: 22),
                to: directory)
            let model = directory + "/m.safetensors"
            let trained = try CommandRun([
                "train", "--data-dir", directory, "--model", model, "--epochs", "3",
                "--validation-split", "50", "--json",
            ])
            #expect(trained.status == 0, "\(trained.standardError)")
            let epochs = trained.standardOutput.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["type"] as? String == "epoch" }
            let history = try #require(try SafeTensorsFile.read(model).trainingHistory())
            #expect(history.unit == .epoch && history.start == 1 && history.count == 3 && epochs.count == 3)
            #expect(history.loss == epochs.map { Float($0["loss"] as! Double) })
            #expect(history.trainingAccuracy == epochs.map { Float($0["train_accuracy"] as! Double) })
            #expect(history.validationAccuracy == epochs.map { Float($0["validation_accuracy"] as! Double) })

            let reported = try CommandRun([
                "report", "--data-dir", directory, "--model", model, "--output", directory + "/report",
            ])
            #expect(reported.status == 0, "\(reported.standardError)")
            #expect(reported.standardOutput == directory + "/report/index.html\n")
            let page = try String(contentsOfFile: directory + "/report/index.html", encoding: .utf8)
            #expect(page.components(separatedBy: "<polyline ").count - 1 == 3, "loss, training and validation accuracy")

            // The same model without its history: a report without curves, and a note on stderr.
            var stored = try SafeTensorsFile.read(model)
            stored.metadata[TrainingHistory.metadataKey] = nil
            try SafeTensorsFile.write(stored, to: model)
            let old = try CommandRun([
                "report", "--data-dir", directory, "--model", model, "--output", directory + "/old",
            ])
            #expect(
                old.status == 0 && old.standardError.contains("records no training history"), "\(old.standardError)")
            let oldPage = try String(contentsOfFile: directory + "/old/index.html", encoding: .utf8)
            #expect(oldPage.contains("Training curves unavailable") && !oldPage.contains("<svg "))
        }
    }

    @Test func lbfgsRecordsOneEntryPerIterationAndTheReportSaysSo() throws {
        try withTemporaryDirectory { directory in
            try writeDataDirectory(
                train: try blockDataset(count: 200, seed: 23), test: try blockDataset(count: 40, seed: 24),
                to: directory)
            let model = directory + "/m.safetensors"
            let trained = try CommandRun([
                "train", "--data-dir", directory, "--model", model, "--optimizer", "lbfgs",
                "--max-iterations", "4", "--json",
            ])
            #expect(trained.status == 0, "\(trained.standardError)")
            let iterations = trained.standardOutput.split(separator: "\n").filter {
                $0.contains(#""type":"iteration""#)
            }.count
            let history = try #require(try SafeTensorsFile.read(model).trainingHistory())
            #expect(history.unit == .iteration && history.count == iterations && history.validationAccuracy == nil)
            let reported = try CommandRun([
                "report", "--data-dir", directory, "--model", model, "--output", directory + "/report",
            ])
            #expect(reported.status == 0, "\(reported.standardError)")
            let page = try String(contentsOfFile: directory + "/report/index.html", encoding: .utf8)
            #expect(page.contains("Training loss per L-BFGS iteration") && page.contains("No validation curve"))
        }
    }

    @Test func reportWithoutOutputOrWithABadErrorCountIsAUsageError() throws {
        #expect(try CommandRun(["report", "--model", "m.safetensors"]).status == 64)
        #expect(try CommandRun(["report", "--output", "out", "--error-count", "0"]).status == 64)
    }
}
