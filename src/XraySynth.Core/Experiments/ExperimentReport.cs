using System.Globalization;
using System.Text.Json.Nodes;
using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Imaging;

namespace XraySynth.Experiments;

/// <summary>Writes report.md and report.html (self-contained) for an experiment from its recorded results: data,
/// GAN training and samples, synthetic-image quality and memorisation, the main table (mean ± sd and 95% CI over seeds
/// per arm, image and study level), paired comparisons with the baseline, plots and an honest conclusion.</summary>
public static class ExperimentReport
{
    public const string MarkdownFile = "report.md";
    public const string HtmlFile = "report.html";

    /// <summary>Metrics of the main table, in order.</summary>
    public static readonly Metric[] TableMetrics = [Metric.Accuracy, Metric.Sensitivity, Metric.Specificity, Metric.Kappa, Metric.Auroc];

    /// <summary>The comparisons the conclusion speaks about: study-level AUROC and kappa (the MURA paper's measures).</summary>
    public static readonly (EvaluationLevel Level, Metric Metric)[] Headline = [(EvaluationLevel.Study, Metric.Auroc), (EvaluationLevel.Study, Metric.Kappa)];

    private static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Name(Metric m) => m switch
    {
        Metric.Auroc => "AUROC",
        Metric.Kappa => "Cohen's kappa",
        Metric.AveragePrecision => "average precision",
        _ => m.ToString().ToLowerInvariant(),
    };

    public static void Write(string dir, ExperimentResults r)
    {
        var figures = Path.Combine(dir, "report", "figures");
        Directory.CreateDirectory(figures);
        var doc = new ReportDocument();
        var c = r.Config;
        var baseline = r.Arms.First(a => a.IsBaseline);
        doc.H(1, $"Experiment '{c.Name}': do synthetic X-rays improve the classifier?");
        doc.P($"Question: does adding StyleGAN2-ADA synthetic images to the training set improve a {c.Classifier.Arch} abnormality classifier " +
              $"on **real, held-out** images? {r.Arms.Count} arms × {c.Seeds.Count} seeds ({string.Join(", ", c.Seeds)}); every arm is evaluated on the same real test set. " +
              $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by xraysynth.");

        // Conclusion first: a reader wants the answer.
        doc.H(2, "Conclusion");
        var sentences = new List<string>();
        foreach (var arm in r.Arms.Where(a => !a.IsBaseline))
            foreach (var (level, metric) in Headline)
            {
                var cmp = SeedStatistics.Compare(r.Values(arm.Name, level, metric), r.Values(baseline.Name, level, metric));
                sentences.Add($"**{arm.Name}** vs **{baseline.Name}**, {level.ToString().ToLowerInvariant()} level: {Conclusion.Sentence(Name(metric), cmp)}");
            }
        if (sentences.Count == 0) sentences.Add("Only the baseline arm was run: there is nothing to compare.");
        doc.List(sentences);
        int missing = r.Arms.Count * c.Seeds.Count - r.Results.Count;
        if (missing > 0) doc.P($"**Incomplete:** {missing} arm × seed runs have no evaluation yet; the numbers below use the {r.Results.Count} that finished.");

        // Data.
        doc.H(2, "Data");
        doc.P(c.Data.Prepared is not null ? $"Prepared folder {c.Data.Prepared}." :
            $"MURA root {c.Data.Mura}, study types {string.Join(", ", c.Data.Parts)}; MURA valid/ is the held-out test set; the validation set " +
            $"({c.Data.ValFraction:P0} of training patients) is cut **by patient**; the GAN trains on the training split only.");
        doc.Table(["split", "images", "normal", "abnormal", "studies", "patients"],
            r.DataCounts.Select(d => new[] { d.Split, d.Images.Total.ToString(CultureInfo.InvariantCulture), d.Images.Negative.ToString(CultureInfo.InvariantCulture),
                d.Images.Positive.ToString(CultureInfo.InvariantCulture), d.Studies.ToString(CultureInfo.InvariantCulture), d.Patients.ToString(CultureInfo.InvariantCulture) }));

        // GAN.
        doc.H(2, "Synthetic images");
        doc.P(c.Gan.Mode switch
        {
            "conditional" => $"One class-conditional StyleGAN2-ADA ({c.Gan.Cfg}, {c.Gan.Kimg} kimg, aug {c.Gan.Aug}).",
            "per-class" => $"One StyleGAN2-ADA per class ({c.Gan.Cfg}, {c.Gan.Kimg} kimg each, aug {c.Gan.Aug}).",
            _ => "Existing snapshots: " + string.Join(", ", c.Gan.Snapshots.Select(kv => $"{kv.Key}: {kv.Value}")) + ".",
        } + $" Truncation psi {c.Synthetic.Trunc}" + (c.Synthetic.Sharpen > 0 ? $", unsharp mask {c.Synthetic.Sharpen}" : "") +
            (c.Synthetic.ExcludeMemorized ? "; images flagged by the memorisation audit were dropped." : "."));
        foreach (var gan in r.GanRuns)
        {
            var stats = ExperimentResults.GanStats(gan);
            if (stats.Count > 0)
            {
                var losses = Path.Combine(figures, $"gan-{gan.Model}-losses.png");
                var ada = Path.Combine(figures, $"gan-{gan.Model}-ada.png");
                ExperimentPlots.GanCurves(losses, ada, $"GAN {gan.Model}", stats);
                var last = stats[^1];
                doc.P($"GAN '{gan.Model}': {F(Get(last, "kimg"))} kimg, final ADA p {F(Get(last, "augmentP"))}, {F(Get(last, "secPerKimg"))} s/kimg in the last tick.");
                doc.Image(losses, $"GAN {gan.Model}: G and D losses over training");
                doc.Image(ada, $"GAN {gan.Model}: ADA augmentation probability over training");
            }
            QualitySection(doc, gan, figures);
            var fakes = Directory.Exists(gan.RunDir) ? Directory.GetFiles(gan.RunDir, "fakes*.png").Order(StringComparer.Ordinal).LastOrDefault() : null;
            var reals = Path.Combine(gan.RunDir, "reals.png");
            if (File.Exists(reals)) doc.Image(reals, $"GAN {gan.Model}: training images (reals.png)");
            if (fakes is not null) doc.Image(fakes, $"GAN {gan.Model}: G_ema samples at the end of training ({Path.GetFileName(fakes)})");
        }
        foreach (var (cls, folder) in r.SyntheticDirs)
        {
            var rows = SyntheticManifest.Read(folder);
            if (rows.Count == 0) continue;
            var grid = Path.Combine(figures, $"synthetic-{cls}.png");
            var images = rows.Take(24).Select(row => ImageCodec.Decode(Path.Combine(folder, row.File))).ToList();
            ImageCodec.WritePng(grid, ImageGrid.Tile(images, 8));
            doc.Image(grid, $"Synthetic {(cls == "positive" ? "abnormal" : "normal")} images used for training (first {images.Count} of {rows.Count})");
            MemorisationSection(doc, Path.GetDirectoryName(folder)!, cls);
        }

        // Main table.
        doc.H(2, "Results on the real test set");
        doc.P("Mean ± sd over seeds, with the 95% t confidence interval of the mean in brackets. Image level: every test image; " +
              "study level: the mean of a study's image probabilities (as the MURA paper), abnormal when above the threshold " +
              $"{c.Evaluation.Threshold.ToString(CultureInfo.InvariantCulture)}.");
        foreach (var level in new[] { EvaluationLevel.Study, EvaluationLevel.Image })
        {
            var header = new[] { "arm", "synthetic / class", "seeds" }.Concat(TableMetrics.Select(Name)).ToArray();
            doc.P($"**{level} level**");
            doc.Table(header, r.Arms.Select(a =>
            {
                var cells = new List<string> { a.Name, a.Balance ? $"balance ({a.SyntheticPerClass} of the smaller class)" : a.SyntheticPerClass.ToString(CultureInfo.InvariantCulture),
                    r.Results.Count(x => x.Arm == a.Name).ToString(CultureInfo.InvariantCulture) };
                foreach (var m in TableMetrics)
                {
                    var s = SeedStatistics.Summarize(r.Values(a.Name, level, m).Values);
                    cells.Add(s.N == 0 ? "–" : $"{F(s.Mean)} ± {F(s.Sd)} [{F(s.Lower)}, {F(s.Upper)}]");
                }
                return cells.ToArray();
            }));
        }

        // Paired comparisons.
        if (r.Arms.Count > 1)
        {
            doc.H(2, $"Differences to the baseline ('{baseline.Name}'), paired by seed");
            doc.P("Difference = arm − baseline. p: paired t-test (two-sided); Wilcoxon: exact signed-rank p (with 3 seeds it cannot go below 0.25).");
            var rows = new List<string[]>();
            foreach (var arm in r.Arms.Where(a => !a.IsBaseline))
                foreach (var level in new[] { EvaluationLevel.Study, EvaluationLevel.Image })
                    foreach (var m in new[] { Metric.Auroc, Metric.Kappa, Metric.Accuracy, Metric.Sensitivity, Metric.Specificity })
                    {
                        var cmp = SeedStatistics.Compare(r.Values(arm.Name, level, m), r.Values(baseline.Name, level, m));
                        rows.Add([arm.Name, level.ToString().ToLowerInvariant(), Name(m), Conclusion.Signed(cmp.MeanDifference), $"[{F(cmp.Lower)}, {F(cmp.Upper)}]",
                            Conclusion.PText(cmp.PValue), Conclusion.PText(cmp.WilcoxonP), cmp.N.ToString(CultureInfo.InvariantCulture), Conclusion.Judge(cmp).ToString()]);
                    }
            doc.Table(["arm", "level", "metric", "difference", "95% CI", "p (t)", "p (Wilcoxon)", "pairs", "verdict"], rows);
        }

        // Plots.
        doc.H(2, "Plots");
        var amounts = r.Arms.Select(a => (double)a.SyntheticPerClass).ToArray();
        foreach (var m in new[] { Metric.Auroc, Metric.Kappa })
        {
            var path = Path.Combine(figures, $"{m.ToString().ToLowerInvariant()}-vs-amount.png");
            ExperimentPlots.MetricVsAmount(path, Name(m), [.. new[] { EvaluationLevel.Study, EvaluationLevel.Image }.Select(level =>
                (level.ToString().ToLowerInvariant() + " level", amounts, r.Arms.Select(a => SeedStatistics.Summarize(r.Values(a.Name, level, m).Values)).ToArray()))]);
            doc.Image(path, $"Test {Name(m)} against synthetic images added per class (mean and 95% CI over seeds)");
        }
        var roc = Path.Combine(figures, "roc-per-arm.png");
        var series = r.Arms.Select(a =>
        {
            var studies = r.Results.Where(x => x.Arm == a.Name).SelectMany(x => StudyAggregation.Aggregate(x.Predictions)).ToList();
            return RocSeries.Of($"{a.Name} (seeds pooled)", studies.Select(s => s.Label).ToList(), studies.Select(s => s.Probability).ToList());
        }).Where(s => s.Points.Count > 0).ToList();
        if (series.Count > 0)
        {
            EvaluationPlots.Roc(roc, series, "Study-level ROC per arm (test set, seeds pooled)");
            doc.Image(roc, "Study-level ROC curves per arm; the AUROC in the legend is of the pooled predictions");
        }

        // Reproduce.
        doc.H(2, "Reproducibility");
        doc.P($"Every stage lives in its own folder under {r.Dir}; rerunning the same command resumes and recomputes nothing finished. Config:");
        doc.Pre(Json.Serialize(c));

        AtomicFile.WriteAllText(Path.Combine(dir, MarkdownFile), doc.ToMarkdown(dir));
        AtomicFile.WriteAllText(Path.Combine(dir, HtmlFile), doc.ToHtml($"XraySynth experiment {c.Name}"));
    }

    private static double Get(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;

    /// <summary>FID/KID/PR records of a GAN run (metric-*.jsonl written by 'gan metrics'), as a table and a plot.</summary>
    private static void QualitySection(ReportDocument doc, GanRunInfo gan, string figures)
    {
        if (!Directory.Exists(gan.RunDir)) return;
        var rows = new List<string[]>();
        var series = new List<(string, double[], double[])>();
        foreach (var file in Directory.GetFiles(gan.RunDir, "metric-*.jsonl").Order(StringComparer.Ordinal))
        {
            var records = File.ReadAllLines(file).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l) as JsonObject).Where(o => o is not null).Select(o => o!).ToList();
            var name = Path.GetFileNameWithoutExtension(file)["metric-".Length..];
            var points = new List<(double Kimg, double Value)>();
            foreach (var o in records)
            {
                var snapshot = o["snapshot_pkl"]?.ToString() ?? "";
                var results = o["results"] as JsonObject;
                rows.Add([name, snapshot, results is null ? "" : string.Join(", ", results.Select(kv => $"{kv.Key} {(kv.Value is JsonValue v && v.TryGetValue<double>(out var d) ? F(d) : kv.Value?.ToString())}"))]);
                // network-snapshot-000064 → 64 kimg (fractional names: 000000.064 → 0.064)
                if (double.TryParse(snapshot.Replace("network-snapshot-", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var kimg)
                    && results?.FirstOrDefault().Value is JsonValue first && first.TryGetValue<double>(out var value))
                    points.Add((kimg, value));
            }
            if (points.Count > 1) series.Add((name, points.Select(p => p.Kimg).ToArray(), points.Select(p => p.Value).ToArray()));
        }
        if (rows.Count == 0) return;
        doc.P($"Quality metrics of GAN '{gan.Model}' (from 'gan metrics'):");
        doc.Table(["metric", "snapshot", "values"], rows);
        if (series.Count > 0)
        {
            var path = Path.Combine(figures, $"gan-{gan.Model}-quality.png");
            ExperimentPlots.MetricOverTraining(path, $"GAN {gan.Model}: quality over training", series);
            doc.Image(path, $"GAN {gan.Model}: quality metrics of the snapshots against kimg");
        }
    }

    /// <summary>The memorisation audit of a synthetic folder, when one was run.</summary>
    private static void MemorisationSection(ReportDocument doc, string stageDir, string cls)
    {
        var csv = Directory.Exists(stageDir) ? Directory.GetFiles(stageDir, "memorization.csv", SearchOption.AllDirectories).FirstOrDefault() : null;
        if (csv is null) return;
        var lines = File.ReadAllLines(csv).Skip(1).Where(l => l.Length > 0).ToList();
        int flagged = lines.Count(l => l.EndsWith(",true", StringComparison.OrdinalIgnoreCase) || l.EndsWith(",1", StringComparison.Ordinal));
        doc.P($"Memorisation audit ({cls}): {lines.Count} synthetic images checked against their nearest training images, {flagged} flagged as (near) copies.");
        var pairs = Directory.GetFiles(Path.GetDirectoryName(csv)!, "*closest*.png").FirstOrDefault();
        if (pairs is not null) doc.Image(pairs, $"Closest synthetic / training pairs ({cls})");
    }
}
