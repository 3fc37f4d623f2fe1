using System.Globalization;
using System.Text.Json.Nodes;
using XraySynth.Classifier.Evaluation;
using XraySynth.Data;
using XraySynth.Imaging;
using XraySynth.Runtime;

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


    private static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Name(Metric m) => m switch
    {
        Metric.Auroc => "AUROC",
        Metric.Kappa => "Cohen's kappa",
        Metric.AveragePrecision => "average precision",
        _ => m.ToString().ToLowerInvariant(),
    };

    /// <summary>What every section reads: the results, the config, where figures go, and the primary comparisons
    /// (made once: the conclusion and the differences table report the same ones).</summary>
    private sealed class Context
    {
        public Context(string figures, ExperimentResults r)
        {
            Figures = figures;
            Results = r;
            Baseline = r.Arms.First(a => a.IsBaseline);
            Primary = PrimaryEndpoint.Of(Config);
            Statistics = new ExperimentStatistics(r.Results, Config.Evaluation.Threshold, new BootstrapOptions(Config.Evaluation.Bootstrap, 0));
            Candidates = [.. r.Arms.Where(a => !a.IsBaseline)];
            PrimaryComparisons = [.. Candidates.Select(a => Statistics.Compare(a.Name, Baseline.Name, Primary.Level, Primary.Metric))];
            Adjusted = Holm.Adjust([.. PrimaryComparisons.Select(x => x.P)]);
            Corrected = PrimaryComparisons.Count(x => !double.IsNaN(x.P)) > 1;
        }

        public string Figures { get; }
        public ExperimentResults Results { get; }
        public ExperimentConfig Config => Results.Config;
        public ArmInfo Baseline { get; }
        public PrimaryEndpoint Primary { get; }
        public ExperimentStatistics Statistics { get; }
        /// <summary>The arms compared with the baseline, in config order.</summary>
        public List<ArmInfo> Candidates { get; }
        public List<ArmComparison> PrimaryComparisons { get; }
        /// <summary>Holm-adjusted p of <see cref="PrimaryComparisons"/>.</summary>
        public double[] Adjusted { get; }
        /// <summary>More than one primary test: the p-values are corrected.</summary>
        public bool Corrected { get; }
    }

    public static void Write(string dir, ExperimentResults r)
    {
        var figures = Path.Combine(dir, "report", "figures");
        Directory.CreateDirectory(figures);
        var doc = new ReportDocument();
        var x = new Context(figures, r);
        doc.H(1, $"Experiment '{x.Config.Name}': do synthetic X-rays improve the classifier?");
        doc.P($"Question: does adding StyleGAN2-ADA synthetic images to the training set improve a {x.Config.Classifier.Arch} abnormality classifier " +
              $"on **real, held-out** images? {r.Arms.Count} arms × {x.Config.Seeds.Count} seeds ({string.Join(", ", x.Config.Seeds)}); every arm is evaluated on the same real test set. " +
              $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by xraysynth.");
        ConclusionSection(doc, x);   // first: a reader wants the answer
        DataSection(doc, x);
        SyntheticSection(doc, x);
        ResultsSection(doc, x);
        if (r.Arms.Count > 1) DifferencesSection(doc, x);
        PlotsSection(doc, x);
        ReproducibilitySection(doc, x);
        AtomicFile.WriteAllText(Path.Combine(dir, MarkdownFile), doc.ToMarkdown(dir));
        AtomicFile.WriteAllText(Path.Combine(dir, HtmlFile), doc.ToHtml($"XraySynth experiment {x.Config.Name}"));
    }

    private static void ConclusionSection(ReportDocument doc, Context x)
    {
        var (c, primary, candidates) = (x.Config, x.Primary, x.Candidates);
        doc.H(2, "Conclusion");
        doc.P($"Primary endpoint: **{LevelName(primary.Level)} {Name(primary.Metric)}** on the real test set (the config's evaluation.primary, " +
              $"'{primary}'){(candidates.Count > 1 ? $"; its {candidates.Count} comparisons with the baseline are corrected for multiplicity (Holm)" : "")}. " +
              "Every other metric and level below is **exploratory** (uncorrected p-values, no claims).");
        var sentences = new List<string>();
        for (int i = 0; i < candidates.Count; i++)
            sentences.Add($"**{candidates[i].Name}** vs **{x.Baseline.Name}**: " +
                Conclusion.Sentence(Name(primary.Metric), x.PrimaryComparisons[i], x.Adjusted[i], x.Corrected ? "Holm-adjusted p" : "p"));
        if (sentences.Count == 0) sentences.Add("Only the baseline arm was run: there is nothing to compare.");
        doc.List(sentences);
        doc.P("How to read this: " + MethodsText(c, primary));
        int missing = x.Results.Arms.Count * c.Seeds.Count - x.Results.Results.Count;
        if (missing > 0) doc.P($"**Incomplete:** {missing} arm × seed runs have no evaluation yet; the numbers below use the {x.Results.Results.Count} that finished.");
    }

    private static void DataSection(ReportDocument doc, Context x)
    {
        var c = x.Config;
        doc.H(2, "Data");
        doc.P(c.Data.Prepared is not null ? $"Prepared folder {c.Data.Prepared}." :
            $"MURA root {c.Data.Mura}, study types {string.Join(", ", c.Data.Parts)}; MURA valid/ is the held-out test set; the validation set " +
            $"({c.Data.ValFraction:P0} of training patients) is cut **by patient**; the GAN trains on the training split only.");
        doc.Table(["split", "images", "normal", "abnormal", "studies", "patients"],
            x.Results.DataCounts.Select(d => new[] { d.Split, d.Images.Total.ToString(CultureInfo.InvariantCulture), d.Images.Negative.ToString(CultureInfo.InvariantCulture),
                d.Images.Positive.ToString(CultureInfo.InvariantCulture), d.Studies.ToString(CultureInfo.InvariantCulture), d.Patients.ToString(CultureInfo.InvariantCulture) }));
    }

    /// <summary>How the synthetic images were made, each GAN run's curves, quality and sample grids, and the images used.</summary>
    private static void SyntheticSection(ReportDocument doc, Context x)
    {
        var c = x.Config;
        doc.H(2, "Synthetic images");
        doc.P(c.Gan.Mode switch
        {
            "conditional" => $"One class-conditional StyleGAN2-ADA ({c.Gan.Cfg}, {c.Gan.Kimg} kimg, aug {c.Gan.Aug}).",
            "per-class" => $"One StyleGAN2-ADA per class ({c.Gan.Cfg}, {c.Gan.Kimg} kimg each, aug {c.Gan.Aug}).",
            _ => "Existing snapshots: " + string.Join(", ", c.Gan.Snapshots.Select(kv => $"{kv.Key}: {kv.Value}")) + ".",
        } + $" Truncation psi {c.Synthetic.Trunc}" + (c.Synthetic.Sharpen > 0 ? $", unsharp mask {c.Synthetic.Sharpen}" : "") +
            (c.Synthetic.ExcludeMemorized ? "; images flagged by the memorisation audit were dropped." : "."));
        foreach (var gan in x.Results.GanRuns) GanRunSection(doc, x, gan);
        foreach (var (cls, folder) in x.Results.SyntheticDirs)
        {
            var rows = SyntheticManifest.Read(folder);
            if (rows.Count == 0) continue;
            var grid = Path.Combine(x.Figures, $"synthetic-{cls}.png");
            var images = rows.Take(24).Select(row => ImageCodec.Decode(Path.Combine(folder, row.File))).ToList();
            ImageCodec.WritePng(grid, ImageGrid.Tile(images, 8));
            doc.Image(grid, $"Synthetic {(cls == "positive" ? "abnormal" : "normal")} images used for training (first {images.Count} of {rows.Count})");
            MemorisationSection(doc, Path.GetDirectoryName(folder)!, cls);
        }
    }

    /// <summary>One GAN run: loss and ADA curves, quality over training, the reals and the last snapshot's and the
    /// initial G_ema grids (see <see cref="SampleGrids"/>).</summary>
    private static void GanRunSection(ReportDocument doc, Context x, GanRunInfo gan)
    {
        var (figures, resolution) = (x.Figures, x.Config.Data.Resolution);
        var stats = ExperimentResults.GanStats(gan);
        if (stats.Count > 0)
        {
            var losses = Path.Combine(figures, $"gan-{gan.Model}-losses.png");
            var ada = Path.Combine(figures, $"gan-{gan.Model}-ada.png");
            ExperimentPlots.GanCurves(losses, ada, $"GAN {gan.Model}", stats);
            var lastTick = stats[^1];
            doc.P($"GAN '{gan.Model}': {F(Get(lastTick, "kimg"))} kimg, final ADA p {F(Get(lastTick, "augmentP"))}, {F(Get(lastTick, "secPerKimg"))} s/kimg in the last tick.");
            doc.Image(losses, $"GAN {gan.Model}: G and D losses over training");
            doc.Image(ada, $"GAN {gan.Model}: ADA augmentation probability over training");
        }
        QualitySection(doc, gan, figures);
        var grids = SampleGrids(gan.RunDir);
        var reals = Path.Combine(gan.RunDir, "reals.png");
        string rows = gan.Model == "conditional" ? "; rows alternate normal / abnormal, as the conditional model was asked" : "";
        if (File.Exists(reals))
        {
            var (shown, part) = Readable(reals, resolution, Path.Combine(figures, $"gan-{gan.Model}-reals.png"));
            doc.Image(shown, $"GAN {gan.Model}: training images (reals.png{part}){rows}");
        }
        if (grids.Final is { } last)
        {
            var (shown, part) = Readable(last.Path, resolution, Path.Combine(figures, $"gan-{gan.Model}-final.png"));
            doc.Image(shown, $"GAN {gan.Model}: G_ema samples of the last snapshot, at {Kimg(last.Kimg)} kimg ({Path.GetFileName(last.Path)}{part}){rows}");
        }
        if (grids.Init is { } init)
        {
            var (shown, part) = Readable(init, resolution, Path.Combine(figures, $"gan-{gan.Model}-init.png"));
            doc.Image(shown, $"GAN {gan.Model}: G_ema samples at initialisation, before any training ({Path.GetFileName(init)}{part}), for comparison");
        }
    }

    /// <summary>The main table: mean ± sd and the 95% interval over seeds per arm, study level then image level.</summary>
    private static void ResultsSection(ReportDocument doc, Context x)
    {
        var (r, primary) = (x.Results, x.Primary);
        doc.H(2, "Results on the real test set");
        doc.P($"Mean ± sd over seeds, and in brackets the 95% interval of the mean, which covers both the seed-to-seed spread and the finite " +
              "test set (see the conclusion for the method); intervals stay inside the metric's range. Image level: every test image; " +
              "study level: the mean of a study's image probabilities (as the MURA paper), abnormal when above the threshold " +
              $"{x.Config.Evaluation.Threshold.ToString(CultureInfo.InvariantCulture)}.");
        foreach (var level in new[] { EvaluationLevel.Study, EvaluationLevel.Image })
        {
            var header = new[] { "arm", "synthetic / class", "seeds" }.Concat(TableMetrics.Select(m => Name(m) + (level == primary.Level && m == primary.Metric ? " (primary)" : ""))).ToArray();
            doc.P($"**{LevelName(level)}**");
            doc.Table(header, r.Arms.Select(a =>
            {
                var cells = new List<string> { a.Name, a.Balance ? $"balance ({a.SyntheticPerClass} of the smaller class)" : a.SyntheticPerClass.ToString(CultureInfo.InvariantCulture),
                    r.Results.Count(y => y.Arm == a.Name).ToString(CultureInfo.InvariantCulture) };
                foreach (var m in TableMetrics)
                {
                    var e = x.Statistics.Arm(a.Name, level, m);
                    cells.Add(e.N == 0 ? "–" : $"{F(e.Mean)} ± {F(e.SeedSd)} [{F(e.Lower)}, {F(e.Upper)}]");
                }
                return cells.ToArray();
            }));
        }
    }

    /// <summary>Every arm minus the baseline, paired by seed: the primary endpoint (Holm-adjusted) and the exploratory rest.</summary>
    private static void DifferencesSection(ReportDocument doc, Context x)
    {
        doc.H(2, $"Differences to the baseline ('{x.Baseline.Name}'), paired by seed");
        doc.P("Difference = arm − baseline, mean over the seeds both arms have. 95% CI and p as described in the conclusion; ± is the CI's " +
              "half-width, the smallest difference this experiment could tell from 0. The primary comparison's p is Holm-adjusted " +
              $"over the arms{(x.Corrected ? "" : " (one test: unchanged)")}; every other row is exploratory and uncorrected. " +
              $"No p-value and no verdict below {ExperimentStatistics.MinSeeds} paired seeds, nor when every seed gives the same difference.");
        var rows = new List<string[]>();
        for (int i = 0; i < x.Candidates.Count; i++)
        {
            var arm = x.Candidates[i];
            foreach (var level in new[] { EvaluationLevel.Study, EvaluationLevel.Image })
                foreach (var m in PrimaryEndpoint.Allowed)
                {
                    bool isPrimary = level == x.Primary.Level && m == x.Primary.Metric;
                    var cmp = isPrimary ? x.PrimaryComparisons[i] : x.Statistics.Compare(arm.Name, x.Baseline.Name, level, m);
                    double p = isPrimary ? x.Adjusted[i] : cmp.P;
                    rows.Add([arm.Name, $"{LevelName(level)} {Name(m)}", isPrimary ? "**primary**" : "exploratory", Conclusion.Signed(cmp.Difference),
                        $"[{F(cmp.Lower)}, {F(cmp.Upper)}]", double.IsNaN(cmp.HalfWidth) ? "–" : "±" + F(cmp.HalfWidth),
                        double.IsNaN(p) ? "–" : Conclusion.PText(p)[2..].Trim(), MethodName(cmp.Method),
                        cmp.N.ToString(CultureInfo.InvariantCulture), Conclusion.Words(Conclusion.Judge(cmp, p))]);
                }
        }
        doc.Table(["arm", "endpoint", "role", "difference", "95% CI", "±", "p", "test-set variance", "seeds", "verdict"], rows);
    }

    /// <summary>AUROC and kappa against the synthetic amount, and the study-level ROC of every arm.</summary>
    private static void PlotsSection(ReportDocument doc, Context x)
    {
        var (r, figures) = (x.Results, x.Figures);
        doc.H(2, "Plots");
        var amounts = r.Arms.Select(a => (double)a.SyntheticPerClass).ToArray();
        foreach (var m in new[] { Metric.Auroc, Metric.Kappa })
        {
            var path = Path.Combine(figures, $"{m.ToString().ToLowerInvariant()}-vs-amount.png");
            ExperimentPlots.MetricVsAmount(path, Name(m), [.. new[] { EvaluationLevel.Study, EvaluationLevel.Image }.Select(level =>
                (LevelName(level), amounts, r.Arms.Select(a => x.Statistics.Arm(a.Name, level, m)).ToArray()))]);
            doc.Image(path, $"Test {Name(m)} against synthetic images added per class (mean over seeds and its 95% interval)");
        }
        var roc = Path.Combine(figures, "roc-per-arm.png");
        var series = r.Arms.Select(a =>
        {
            var studies = r.Results.Where(y => y.Arm == a.Name).SelectMany(y => StudyAggregation.Aggregate(y.Predictions)).ToList();
            return RocSeries.Of($"{a.Name} (seeds pooled)", studies.Select(s => s.Label).ToList(), studies.Select(s => s.Probability).ToList());
        }).Where(s => s.Points.Count > 0).ToList();
        if (series.Count > 0)
        {
            EvaluationPlots.Roc(roc, series, "Study-level ROC per arm (test set, seeds pooled)");
            doc.Image(roc, "Study-level ROC curves per arm; the AUROC in the legend is of the pooled predictions");
        }
    }

    private static void ReproducibilitySection(ReportDocument doc, Context x)
    {
        var r = x.Results;
        doc.H(2, "Reproducibility");
        doc.P($"Every stage lives in its own folder under {r.Dir} and is finished when its {ExperimentRunner.MarkerFile} marker is written. " +
              $"To continue an interrupted experiment, or to rewrite this report from the recorded results, run " +
              $"'xraysynth experiment --config CONFIG --runs {Path.GetDirectoryName(r.Dir)} --resume' (without --resume, an existing experiment " +
              "folder is refused; 'xraysynth demo' always resumes): finished stages are kept and never recomputed; a stage finished with " +
              "other settings is refused. Config:");
        doc.Pre(Json.Serialize(x.Config));
    }

    private static string LevelName(EvaluationLevel level) => level == EvaluationLevel.Study ? "study-level" : "image-level";

    private static string MethodName(TestSetVariance method) => method == TestSetVariance.DeLong ? "DeLong" : "bootstrap";

    private static string Kimg(double kimg) => kimg.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The statistical methods, in words, for the report.</summary>
    private static string MethodsText(ExperimentConfig c, PrimaryEndpoint primary) =>
        $"each arm is trained once per seed and every model is scored on the same real test studies. A difference is the mean over seeds " +
        "of the per-seed differences (arm − baseline, same seed). Its 95% CI and two-sided p-value use a t distribution whose variance adds " +
        "the seed-to-seed variance of the differences (training randomness) and the test-set variance of the mean difference (the finite " +
        $"test set): for study-level AUROC from DeLong's covariance of correlated ROC areas (DeLong et al. 1988; all models on the same " +
        $"studies), for the other metrics from a bootstrap over test studies ({c.Evaluation.Bootstrap} replicates, one draw of studies " +
        "shared by every model; image-level metrics resample whole studies), on n − 1 degrees of freedom for n seeds. Intervals of an " +
        "arm's mean are built the same way on the logit scale, so they stay inside [0, 1] ([−1, 1] for kappa). Significance at 0.05; " +
        $"the primary endpoint is {primary}; fewer than {ExperimentStatistics.MinSeeds} paired seeds give no verdict (underpowered), and " +
        "identical differences on every seed are reported as such, without a p-value. A non-significant result is not evidence of no " +
        "effect: the ± half-width says how large a difference could have gone unnoticed.";

    /// <summary>A GAN run's G_ema grids: fakes_init.png (at initialisation) and the last snapshot's fakesKKKKKK.png, the
    /// last by numeric kimg (fakes000010.png after fakes000009.png and after fakes000000.500.png; never fakes_init.png).
    /// </summary>
    public static (string? Init, (string Path, double Kimg)? Final) SampleGrids(string runDir)
    {
        if (!Directory.Exists(runDir)) return (null, null);
        var init = Path.Combine(runDir, "fakes_init.png");
        (string, double)? final = null;
        foreach (var file in Directory.GetFiles(runDir, "fakes*.png"))
        {
            var stem = Path.GetFileNameWithoutExtension(file)["fakes".Length..];
            if (stem.Length == 0 || !stem.All(ch => char.IsAsciiDigit(ch) || ch == '.')) continue;
            if (!double.TryParse(stem, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var kimg)) continue;
            if (final is null || kimg > final.Value.Item2) final = (file, kimg);
        }
        return (File.Exists(init) ? init : null, final);
    }

    /// <summary>A grid of small tiles (the official layout is up to 32 × 32 of them) shrinks to specks in a page: the
    /// report shows its top-left 8 rows × 16 columns, enlarged to at least 96 px a tile (nearest neighbour). Returns
    /// the image to show and a caption note.</summary>
    private static (string Path, string Note) Readable(string grid, int tile, string cropPath)
    {
        var image = ImageCodec.Decode(grid);
        int columns = image.Width / Math.Max(1, tile), rows = image.Height / Math.Max(1, tile);
        if (tile <= 0 || columns * tile != image.Width || rows * tile != image.Height || (columns <= 16 && rows <= 8 && tile >= 96))
            return (grid, "");
        int keepColumns = Math.Min(columns, 16), keepRows = Math.Min(rows, 8);
        int scale = Math.Max(1, (96 + tile - 1) / tile);
        int width = keepColumns * tile * scale, height = keepRows * tile * scale;
        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = image.Pixels[(y / scale) * image.Width + x / scale];
        ImageCodec.WritePng(cropPath, new RasterImage(width, height, 1, pixels));
        static string Part(int kept, int all, string what) => kept == all ? $"all {all} {what}" : $"the first {kept} of {all} {what}";
        return (cropPath, $"; {Part(keepRows, rows, "rows")} and {Part(keepColumns, columns, "columns")} of {tile} px images, enlarged {scale}×");
    }

    private static double Get(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;

    /// <summary>FID/KID/PR records of a GAN run (metric-*.jsonl, written at every snapshot by 'gan train --metrics' and by
    /// 'gan metrics'): the FID at the first and the last snapshot in words, every record in a table, and each metric
    /// against kimg as a plot.</summary>
    private static void QualitySection(ReportDocument doc, GanRunInfo gan, string figures)
    {
        var records = QualityRecords(gan.RunDir);
        if (records.Count == 0) return;
        var series = records.GroupBy(x => x.Metric).Select(grp => (Name: grp.Key, Points: grp.Where(x => !double.IsNaN(x.Kimg) && !double.IsNaN(x.Value))
            .OrderBy(x => x.Kimg).ToList())).ToList();
        foreach (var (name, points) in series.Where(x => x.Name.StartsWith("fid", StringComparison.Ordinal) && x.Points.Count > 1))
        {
            var (first, last) = (points[0], points[^1]);
            string ratio = last.Value > 0 ? $": {(first.Value / last.Value).ToString("0.0", CultureInfo.InvariantCulture)}× lower" : "";
            doc.P($"GAN '{gan.Model}' {name}: {F(first.Value)} at the first snapshot ({Kimg(first.Kimg)} kimg, " +
                  $"{(first.Kimg <= 0.1 ? "effectively at initialisation" : "the earliest measured")}), {F(last.Value)} at the last " +
                  $"({Kimg(last.Kimg)} kimg){(last.Value < first.Value ? ratio : ": no improvement")}. Lower is better; a builtin-detector FID is " +
                  "comparable only with other builtin-detector FIDs of this data, not with published (Inception) FIDs.");
        }
        var plotted = series.Where(x => x.Points.Count > 1).ToList();
        if (plotted.Count > 0)
        {
            var path = Path.Combine(figures, $"gan-{gan.Model}-quality.png");
            ExperimentPlots.MetricOverTraining(path, $"GAN {gan.Model}: quality of the snapshots over training",
                [.. plotted.Select(x => (x.Name, x.Points.Select(p => p.Kimg).ToArray(), x.Points.Select(p => p.Value).ToArray()))]);
            doc.Image(path, $"GAN {gan.Model}: {string.Join(", ", plotted.Select(x => x.Name))} of each snapshot against kimg (lower is better)");
        }
        doc.P($"Quality metrics of GAN '{gan.Model}' per snapshot:");
        doc.Table(["metric", "snapshot", "kimg", "values"], records.OrderBy(x => x.Metric, StringComparer.Ordinal).ThenBy(x => x.Kimg)
            .Select(x => new[] { x.Metric, x.Snapshot, double.IsNaN(x.Kimg) ? "–" : Kimg(x.Kimg), x.Values }));
    }

    /// <summary>One record of a metric-*.jsonl: the metric's name, the snapshot, its kimg (from the snapshot's name:
    /// network-snapshot-000064 → 64, network-snapshot-000000.064 → 0.064), the official result key's value (the key
    /// named as the metric, e.g. fid1k_full-builtin; else the first) and all values as text.</summary>
    private static List<(string Metric, string Snapshot, double Kimg, double Value, string Values)> QualityRecords(string runDir)
    {
        var list = new List<(string, string, double, double, string)>();
        if (!Directory.Exists(runDir)) return list;
        foreach (var file in Directory.GetFiles(runDir, "metric-*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (var line in File.ReadLines(file).Where(l => l.Trim().Length > 0))
            {
                JsonObject? o;
                try { o = JsonNode.Parse(line) as JsonObject; }
                catch (System.Text.Json.JsonException) { continue; }   // a torn last line of an interrupted run
                if (o is null) continue;
                var name = o["metric"]?.ToString() ?? Path.GetFileNameWithoutExtension(file)["metric-".Length..];
                var snapshot = o["snapshot_pkl"]?.ToString() ?? "";
                var results = o["results"] as JsonObject;
                double kimg = double.TryParse(snapshot.Replace("network-snapshot-", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var k) ? k : double.NaN;
                var main = results?[name] ?? results?.FirstOrDefault().Value;
                double value = main is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;
                string values = results is null ? "" : string.Join(", ", results.Select(kv => $"{kv.Key} {(kv.Value is JsonValue x && x.TryGetValue<double>(out var y) ? F(y) : kv.Value?.ToString() ?? "–")}"));
                list.Add((name, snapshot, kimg, value, values));
            }
        }
        return list;
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
