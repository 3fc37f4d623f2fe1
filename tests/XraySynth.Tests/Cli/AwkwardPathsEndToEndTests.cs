using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Runtime;
using XraySynth.Tests.Support;

namespace XraySynth.Tests.Cli;

/// <summary>Paths with spaces, commas, quotes and non-ASCII letters go through every verb and every CSV the tool
/// writes and reads (the one CSV layer, RFC 4180): phantoms, prepare, gan train, generate, metrics (memorisation
/// audit), filter, classifier train and evaluate.</summary>
[Collection(SerialTorch.Name)]
public class AwkwardPathsEndToEndTests
{
    private const string Awkward = "data, \"q\" ünï";

    private static string Run(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, $"xraysynth {string.Join(' ', args)} exited {code}:\n{output}\n{error}");
        return output;
    }

    /// <summary>Renames every study folder and image file of a MURA tree to awkward names and rewrites MURA's CSVs.</summary>
    private static void MakeNamesAwkward(string datasetDir)
    {
        foreach (var split in new[] { "train", "valid" })
        {
            foreach (var study in Directory.GetDirectories(Path.Combine(datasetDir, split), "study*", SearchOption.AllDirectories))
            {
                var name = Path.GetFileName(study);
                var label = name[name.LastIndexOf('_')..];
                foreach (var image in Directory.GetFiles(study, "*.png"))
                    File.Move(image, Path.Combine(study, Path.GetFileNameWithoutExtension(image) + ", \"x\" é.png"));
                Directory.Move(study, Path.Combine(Path.GetDirectoryName(study)!, name[..name.LastIndexOf('_')] + " \"q\", ü" + label));
            }
            var images = Directory.GetFiles(Path.Combine(datasetDir, split), "*.png", SearchOption.AllDirectories)
                .Select(f => "MURA-v1.1/" + Path.GetRelativePath(datasetDir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
            Csv.Write(Path.Combine(datasetDir, $"{split}_image_paths.csv"), null, images.Select(i => new object?[] { i }));
            Csv.Write(Path.Combine(datasetDir, $"{split}_labeled_studies.csv"), null,
                images.Select(i => i[..(i.LastIndexOf('/') + 1)]).Distinct().Select(s => new object?[] { s, s.Contains("_positive/") ? 1 : 0 }));
        }
    }

    [Fact]
    public void EveryVerb_RoundTripsPathsWithCommasQuotesAndNonAsciiLetters()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine(Awkward);
        var mura = Path.Combine(root, "mura");
        Run("phantoms", "--out", mura, "--patients", "16", "--seed", "5");
        MakeNamesAwkward(Path.Combine(mura, MuraCatalog.DatasetFolderName));
        var raw = File.ReadAllText(Path.Combine(mura, MuraCatalog.DatasetFolderName, "train_image_paths.csv"));
        Assert.Contains("\"\"q\"\", ü_", raw);   // the quotes are doubled inside a quoted field

        // prepare: every image is kept (none skipped as malformed), the sources and manifests hold the names exactly.
        var prepared = Path.Combine(root, "prep, \"p\"");
        Run("prepare", "--mura", mura, "--out", prepared, "--resolution", "16", "--classifier-size", "32", "--val-fraction", "0.25", "--seed", "1");
        var train = Manifest.Read(Path.Combine(prepared, "train.csv"));
        Assert.All(train, r => Assert.EndsWith(", \"x\" é.png", r.Path));
        Assert.All(train, r => Assert.Matches("^patient[0-9]+$", r.Patient));
        Assert.All(train, r => Assert.Contains(" \"q\", ü_", r.Study));
        Assert.All(train, r => Assert.True(File.Exists(Path.Combine(prepared, r.Path)), r.Path));
        var patientOf = new Dictionary<string, string>();
        using (var sources = Csv.Open(Path.Combine(prepared, "gan-16-sources.csv")))
        {
            Assert.True(Csv.ReadHeader(sources, ["entry", "source", "patient", "label"]));
            while (sources.Read())
            {
                Assert.EndsWith(", \"x\" é.png", sources.GetField("source"));
                Assert.Matches("^patient[0-9]+$", sources.GetField("patient")!);
                patientOf[sources.GetField("entry")!] = sources.GetField("patient")!;
            }
            Assert.Equal(train.Count, patientOf.Count);
        }

        // gan train (smoke), generate, the memorisation audit and the filter.
        var ganRuns = Path.Combine(root, "gan runs, \"g\"");
        Run("gan", "train", "--data", Path.Combine(prepared, "gan-16.zip"), "--out", ganRuns, "--cfg", "smoke", "--kimg", "0.008",
            "--tick", "0.008", "--cond", "--seed", "1", "--device", "cpu");
        var snapshot = Directory.GetDirectories(Directory.GetDirectories(ganRuns).Single(), "network-snapshot-*").Single();
        var generated = Path.Combine(root, "gen, \"s\" ü");
        Run("gan", "generate", "--network", snapshot, "--out", generated, "--count", "6", "--class", "positive", "--batch", "3", "--device", "cpu");
        Run("gan", "metrics", "--images", generated, "--data", prepared, "--metrics", "memorization", "--detector", "builtin", "--device", "cpu");
        var audit = Directory.GetFiles(generated, "memorization*.csv").Concat(Directory.GetFiles(root, "memorization*.csv", SearchOption.AllDirectories)).First();
        using (var rows = Csv.Open(audit))
        {
            Assert.True(Csv.ReadHeader(rows, ["file", "flagged"]));
            var n = 0;
            while (rows.Read())
            {
                // The audit names the nearest real image by its zip entry and its patient from the sources file.
                foreach (var space in new[] { "feature", "pixel" })
                    Assert.Equal(patientOf[rows.GetField($"{space}_nearest")!], rows.GetField($"{space}_patient"));
                n++;
            }
            Assert.Equal(6, n);
        }
        Run("gan", "filter", "--images", generated, "--audit", audit);

        // classifier train on real + synthetic, evaluate: predictions keep paths and studies exactly.
        var classifierRuns = Path.Combine(root, "cls runs, \"c\"");
        Run("classifier", "train", "--data", prepared, "--out", classifierRuns, "--arch", "densenet-smoke", "--size", "32", "--epochs", "1",
            "--batch", "8", "--synthetic", generated, "--device", "cpu");
        var model = Directory.GetDirectories(classifierRuns).Single();
        var evalDir = Path.Combine(root, "eval, \"e\"");
        Run("classifier", "evaluate", "--model", model, "--test", Path.Combine(prepared, "test.csv"), "--out", evalDir, "--bootstrap", "100", "--device", "cpu");
        var predictions = EvaluationFiles.ReadPredictions(Path.Combine(evalDir, EvaluationFiles.PredictionsFileName));
        var test = Manifest.Read(Path.Combine(prepared, "test.csv"));
        Assert.Equal(test.Select(t => (t.Path, t.Study)).Order(), predictions.Select(p => (p.Path, p.Study)).Order());
    }
}
