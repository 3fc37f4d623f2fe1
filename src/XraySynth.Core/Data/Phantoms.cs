using SkiaSharp;
using XraySynth.Imaging;
using XraySynth.Runtime;

namespace XraySynth.Data;

/// <summary>Options of the phantom generator.</summary>
public sealed record PhantomOptions
{
    /// <summary>Folder to write MURA-v1.1/ into.</summary>
    public required string OutDir { get; init; }
    /// <summary>Patients in all (train and valid); each has 1–3 studies of 1–4 views.</summary>
    public int Patients { get; init; } = 100;
    /// <summary>Study types to draw.</summary>
    public IReadOnlyList<string> Parts { get; init; } = ["shoulder"];
    public int Seed { get; init; }
    /// <summary>Fraction of patients placed in valid/ (MURA's held-out split).</summary>
    public double ValidFraction { get; init; } = 0.2;
    /// <summary>Longest image side in pixels is drawn from [MaxSide/2, MaxSide] (MURA: ≤ 512).</summary>
    public int MaxSide { get; init; } = 512;
}

/// <summary>What the generator wrote.</summary>
public sealed record PhantomSummary(string DatasetDir, int Patients, int Studies, int Images, int PositiveStudies, int TrainImages, int ValidImages);

/// <summary>Writes a MURA-v1.1-shaped tree of procedurally drawn radiograph-like images — the data of tests,
/// benchmarks and the demo (MURA itself is licensed and cannot ship). Grey bone shapes on darker tissue, random
/// pose, size and aspect; abnormal (positive) studies show a fracture gap, a bright implant or a lytic lesion; some
/// images are inverted, carry an L/R marker or a cast, and a few are stored as RGB PNGs, as in MURA. The label
/// is learnable from shape, not from any single pixel (markers and casts are bright in both classes).
/// Deterministic for a seed.</summary>
public static class Phantoms
{
    private sealed record ImageJob(string RelativePath, MuraSplit Split, string Part, int Label, ulong Seed);

    public static PhantomSummary Generate(PhantomOptions o, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        if (o.Patients < 2) throw new DataException($"--patients {o.Patients}: need at least 2 (one for train/, one for valid/).");
        if (o.MaxSide is < 32 or > 2048) throw new DataException($"max side {o.MaxSide}: must be 32..2048.");
        foreach (var p in o.Parts)
            if (!MuraPaths.Parts.Contains(p))
                throw new DataException($"unknown study type '{p}'. fix: use one or more of {string.Join(", ", MuraPaths.Parts)}.");
        var datasetDir = Path.Combine(OutputFolder.Ensure(o.OutDir, "--out"), MuraCatalog.DatasetFolderName);
        if (IsComplete(datasetDir))
            throw new DataException($"{datasetDir} already holds a complete dataset. fix: choose another --out or delete it.");
        // An interrupted run (no CSVs yet) is simply redone: every image is deterministic and written atomically.

        var jobs = Plan(o, out int studies, out int positives);
        int done = 0;
        Parallel.ForEach(jobs, new ParallelOptions { CancellationToken = cancel }, job =>
        {
            var path = Path.Combine(datasetDir, job.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var rng = new Random((int)(job.Seed & 0x7fffffff));
            var image = Render(job.Part, job.Label, rng, o.MaxSide);
            ImageCodec.WritePng(path, rng.NextDouble() < 0.05 ? image.ToRgb() : image);
            int d = Interlocked.Increment(ref done);
            if (d % 16 == 0 || d == jobs.Count) progress?.Report(new ProgressInfo("phantoms", d, jobs.Count));
        });

        foreach (var split in new[] { MuraSplit.Train, MuraSplit.Valid })
        {
            var name = split.ToString().ToLowerInvariant();
            var mine = jobs.Where(j => j.Split == split).ToList();
            // MURA's CSVs have no header.
            Csv.Write(Path.Combine(datasetDir, $"{name}_image_paths.csv"), null,
                mine.Select(j => new object?[] { $"{MuraCatalog.DatasetFolderName}/{j.RelativePath}" }));
            Csv.Write(Path.Combine(datasetDir, $"{name}_labeled_studies.csv"), null,
                mine.Select(j => (Study: j.RelativePath[..(j.RelativePath.LastIndexOf('/') + 1)], j.Label)).Distinct()
                    .Select(s => new object?[] { $"{MuraCatalog.DatasetFolderName}/{s.Study}", s.Label }));
        }
        return new PhantomSummary(datasetDir, o.Patients, studies, jobs.Count, positives,
            jobs.Count(j => j.Split == MuraSplit.Train), jobs.Count(j => j.Split == MuraSplit.Valid));
    }

    /// <summary>True when a generated tree is finished: its CSVs are written last.</summary>
    public static bool IsComplete(string datasetDir) =>
        File.Exists(Path.Combine(datasetDir, "train_image_paths.csv")) && File.Exists(Path.Combine(datasetDir, "valid_labeled_studies.csv"));

    /// <summary>Every image to draw, with its own seed: the output does not depend on thread scheduling.</summary>
    private static List<ImageJob> Plan(PhantomOptions o, out int studies, out int positives)
    {
        var rng = new Random(o.Seed);
        var jobs = new List<ImageJob>();
        studies = positives = 0;
        // At least two patients per split where possible, so each split can hold both labels.
        int minPerSplit = o.Patients >= 4 ? 2 : 1;
        int validCount = Math.Clamp((int)Math.Round(o.Patients * o.ValidFraction), minPerSplit, o.Patients - minPerSplit);
        var seenInSplit = new int[2];
        int labelPhase = rng.Next(2);
        var isValid = new bool[o.Patients];
        for (int i = 0; i < validCount; i++) isValid[i] = true;
        rng.Shuffle(isValid);
        for (int p = 0; p < o.Patients; p++)
        {
            var split = isValid[p] ? MuraSplit.Valid : MuraSplit.Train;
            var mainPart = o.Parts[rng.Next(o.Parts.Count)];
            int nStudies = 1 + (rng.NextDouble() < 0.3 ? 1 : 0) + (rng.NextDouble() < 0.1 ? 1 : 0);
            var perPart = new Dictionary<string, int>();
            for (int s = 0; s < nStudies; s++)
            {
                var part = rng.NextDouble() < 0.85 ? mainPart : o.Parts[rng.Next(o.Parts.Count)];
                int studyNo = perPart[part] = perPart.GetValueOrDefault(part) + 1;
                // A patient's first study alternates the label within its split (both classes guaranteed),
                // later studies are random.
                int label = s == 0 ? (seenInSplit[(int)split]++ + labelPhase) % 2 : rng.NextDouble() < 0.5 ? 1 : 0;
                studies++;
                positives += label;
                int views = 1 + rng.Next(4);
                for (int v = 1; v <= views; v++)
                {
                    var rel = $"{split.ToString().ToLowerInvariant()}/XR_{part.ToUpperInvariant()}/patient{p + 1:D5}/study{studyNo}_{(label == 1 ? "positive" : "negative")}/image{v}.png";
                    jobs.Add(new ImageJob(rel, split, part, label, Mix((ulong)o.Seed, (ulong)jobs.Count)));
                }
            }
        }
        return jobs;
    }

    private static ulong Mix(ulong a, ulong b)
    {
        // splitmix64 of the pair: a stable per-image seed (HashCode is randomised per process).
        ulong z = a * 0x9E3779B97F4A7C15UL + b + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // ---- drawing -------------------------------------------------------------------------------------------

    /// <summary>A bone as a capsule from A to B (in a 512-unit frame) with a given half-width.</summary>
    private readonly record struct Bone(SKPoint A, SKPoint B, float Radius);

    internal static RasterImage Render(string part, int label, Random rng, int maxSide)
    {
        int longSide = rng.Next(maxSide / 2, maxSide + 1);
        double aspect = 0.6 + 0.4 * rng.NextDouble();
        int shortSide = Math.Max(16, (int)(longSide * aspect));
        bool portrait = rng.NextDouble() < 0.7;
        int w = portrait ? shortSide : longSide, h = portrait ? longSide : shortSide;

        var info = new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        byte background = (byte)rng.Next(5, 35);
        canvas.Clear(new SKColor(background, background, background));

        // Pose: the anatomy lives in a 512×512 frame, scaled to the image and randomly rotated and shifted.
        canvas.Save();
        float scale = Math.Min(w, h) / 512f * (float)(0.85 + 0.35 * rng.NextDouble());
        canvas.Translate(w / 2f + (float)(rng.NextDouble() - 0.5) * w * 0.15f, h / 2f + (float)(rng.NextDouble() - 0.5) * h * 0.15f);
        canvas.RotateDegrees((float)(rng.NextDouble() * 50 - 25) + (portrait ? 0 : 90));
        canvas.Scale(scale * (rng.NextDouble() < 0.5 ? -1 : 1), scale);
        canvas.Translate(-256, -256);

        var bones = Anatomy(part, rng);
        DrawSoftTissue(canvas, bones, rng);
        foreach (var b in bones) DrawBone(canvas, b, rng);
        if (label == 1 && rng.NextDouble() < 0.92) DrawAbnormality(canvas, bones, rng);
        if (rng.NextDouble() < 0.12) DrawCast(canvas, bones, rng);
        canvas.Restore();
        if (rng.NextDouble() < 0.4) DrawMarker(canvas, w, h, rng);

        var pixels = new byte[w * h];
        unsafe
        {
            fixed (byte* p = pixels)
                surface.ReadPixels(info, (IntPtr)p, info.RowBytes, 0, 0);
        }
        AddNoise(pixels, rng, 3 + 6 * rng.NextDouble());
        if (rng.NextDouble() < 0.1)
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(255 - pixels[i]);
        return new RasterImage(w, h, 1, pixels);
    }

    private static List<Bone> Anatomy(string part, Random rng)
    {
        float J(float v, float spread) => v + (float)(rng.NextDouble() * 2 - 1) * spread;
        SKPoint P(float x, float y) => new(J(x, 10), J(y, 10));
        var bones = new List<Bone>();
        switch (part)
        {
            case "shoulder":
                bones.Add(new Bone(P(270, 250), P(300, 520), J(42, 6)));        // humeral shaft
                bones.Add(new Bone(P(255, 215), P(262, 222), J(78, 8)));        // humeral head
                bones.Add(new Bone(P(150, 150), P(175, 330), J(22, 4)));        // glenoid / scapula edge
                bones.Add(new Bone(P(40, 95), P(330, 120), J(20, 4)));          // clavicle
                break;
            case "humerus":
                bones.Add(new Bone(P(256, 40), P(256, 470), J(40, 6)));
                bones.Add(new Bone(P(250, 45), P(256, 50), J(62, 6)));
                bones.Add(new Bone(P(230, 465), P(285, 470), J(48, 6)));
                break;
            case "elbow":
                bones.Add(new Bone(P(256, -20), P(256, 235), J(44, 6)));        // humerus
                bones.Add(new Bone(P(225, 285), P(210, 540), J(26, 4)));        // radius
                bones.Add(new Bone(P(290, 270), P(305, 540), J(30, 4)));        // ulna
                break;
            case "forearm":
                bones.Add(new Bone(P(215, 20), P(200, 490), J(26, 4)));
                bones.Add(new Bone(P(300, 20), P(310, 490), J(24, 4)));
                break;
            case "wrist":
                bones.Add(new Bone(P(220, 540), P(215, 330), J(34, 5)));
                bones.Add(new Bone(P(305, 540), P(300, 345), J(24, 4)));
                for (int i = 0; i < 8; i++)
                    bones.Add(new Bone(P(190 + 40 * (i % 4), 280 - 45 * (i / 4)), P(195 + 40 * (i % 4), 282 - 45 * (i / 4)), J(19, 3)));
                for (int i = 0; i < 5; i++)
                    bones.Add(new Bone(P(165 + 45 * i, 170), P(150 + 50 * i, -30), J(13, 2)));
                break;
            case "hand":
                for (int i = 0; i < 5; i++)
                {
                    float x0 = 170 + 45 * i, x1 = 120 + 70 * i;
                    bones.Add(new Bone(P(x0, 430), P(x0 + (x1 - x0) * 0.4f, 260), J(14, 2)));   // metacarpal
                    bones.Add(new Bone(P(x0 + (x1 - x0) * 0.45f, 245), P(x0 + (x1 - x0) * 0.75f, 150), J(11, 2)));
                    if (i > 0) bones.Add(new Bone(P(x0 + (x1 - x0) * 0.8f, 135), P(x1, 60), J(9, 2)));
                }
                for (int i = 0; i < 6; i++) bones.Add(new Bone(P(180 + 35 * i, 470), P(182 + 35 * i, 472), J(17, 3)));
                break;
            default: // finger
                bones.Add(new Bone(P(256, 520), P(256, 360), J(26, 4)));
                bones.Add(new Bone(P(256, 340), P(258, 215), J(23, 3)));
                bones.Add(new Bone(P(258, 195), P(260, 105), J(20, 3)));
                bones.Add(new Bone(P(260, 85), P(261, 25), J(17, 3)));
                break;
        }
        return bones;
    }

    private static void DrawSoftTissue(SKCanvas canvas, List<Bone> bones, Random rng)
    {
        byte tissue = (byte)rng.Next(55, 95);
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = new SKColor(tissue, tissue, tissue),
            StrokeCap = SKStrokeCap.Round,
            Style = SKPaintStyle.Stroke,
            MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 14),
        };
        foreach (var b in bones)
        {
            paint.StrokeWidth = b.Radius * 2 + 70;
            canvas.DrawLine(b.A, b.B, paint);
        }
    }

    private static void DrawBone(SKCanvas canvas, Bone b, Random rng)
    {
        byte cortex = (byte)rng.Next(175, 215);
        byte marrow = (byte)(cortex - rng.Next(25, 50));
        using var paint = new SKPaint { IsAntialias = true, StrokeCap = SKStrokeCap.Round, Style = SKPaintStyle.Stroke };
        paint.Color = new SKColor(cortex, cortex, cortex);
        paint.StrokeWidth = b.Radius * 2;
        canvas.DrawLine(b.A, b.B, paint);
        paint.Color = new SKColor(marrow, marrow, marrow);
        paint.StrokeWidth = b.Radius * 2 * 0.55f;
        paint.MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 3);
        canvas.DrawLine(b.A, b.B, paint);
    }

    private static SKPoint Along(Bone b, float t) => new(b.A.X + (b.B.X - b.A.X) * t, b.A.Y + (b.B.Y - b.A.Y) * t);

    /// <summary>The finding, drawn on the largest long bone and sized relative to it (widths ≥ ~0.4 of the bone's
    /// half-width), so that it stays visible when the image is shrunk to the demo's 64 px classifier input: there a
    /// humeral shaft is ~8 px wide, a fracture gap ~2 px, a lesion ~4 px across.</summary>
    private static void DrawAbnormality(SKCanvas canvas, List<Bone> bones, Random rng)
    {
        var bone = bones.MaxBy(b => (SKPoint.Distance(b.A, b.B) + b.Radius) * b.Radius);
        var dir = bone.B - bone.A;
        float len = MathF.Max(1, MathF.Sqrt(dir.X * dir.X + dir.Y * dir.Y));
        var u = new SKPoint(dir.X / len, dir.Y / len);           // along the bone
        var n = new SKPoint(-u.Y, u.X);                           // across it
        var t = (float)(0.3 + 0.4 * rng.NextDouble());
        var c = Along(bone, t);
        float r = bone.Radius;
        double kind = rng.NextDouble();
        using var paint = new SKPaint { IsAntialias = true, StrokeCap = SKStrokeCap.Round };
        if (kind < 0.45)
        {
            // Fracture: a jagged dark gap right across the bone, the distal part shifted sideways (a cortex step).
            byte gap = (byte)rng.Next(25, 60);
            paint.Color = new SKColor(gap, gap, gap);
            paint.Style = SKPaintStyle.Stroke;
            paint.StrokeWidth = r * (0.35f + 0.2f * (float)rng.NextDouble());
            using var path = new SKPathBuilder();
            float reach = r * 1.3f, slant = (float)(rng.NextDouble() - 0.5) * r;
            path.MoveTo(c - Scaled(n, reach) + Scaled(u, slant));
            for (int k = 1; k <= 5; k++)
            {
                float s = -reach + 2 * reach * k / 5;
                float jag = (float)(rng.NextDouble() - 0.5) * r * 0.3f;
                path.LineTo(c + Scaled(n, s) + Scaled(u, jag - slant * s / reach));
            }
            using (var built = path.Detach()) canvas.DrawPath(built, paint);
            byte cortex = (byte)rng.Next(170, 210);
            paint.Color = new SKColor(cortex, cortex, cortex);
            paint.StrokeWidth = r * 0.3f;
            float shift = r * (0.25f + 0.25f * (float)rng.NextDouble());
            var from = c + Scaled(n, r + shift) + Scaled(u, r * 0.3f);
            canvas.DrawLine(from, from + Scaled(u, r * 1.5f), paint);
        }
        else if (kind < 0.8)
        {
            // Implant: a very bright plate along the bone with screws across it.
            byte metal = (byte)rng.Next(235, 256);
            paint.Color = new SKColor(metal, metal, metal);
            paint.Style = SKPaintStyle.Stroke;
            paint.StrokeWidth = r * (0.35f + 0.15f * (float)rng.NextDouble());
            float half = len * (0.15f + 0.15f * (float)rng.NextDouble());
            var side = Scaled(n, r * 0.9f);
            canvas.DrawLine(c + side - Scaled(u, half), c + side + Scaled(u, half), paint);
            paint.StrokeWidth = r * 0.18f;
            int screws = rng.Next(3, 7);
            for (int k = 0; k < screws; k++)
            {
                float s = -half + 2 * half * (k + 0.5f) / screws;
                var at = c + Scaled(u, s);
                canvas.DrawLine(at + Scaled(side, 1.3f), at - Scaled(side, 1.1f), paint);
            }
        }
        else
        {
            // Lytic lesion: a dark, sharply bordered hole in the bone with a sclerotic rim.
            float size = r * (0.6f + 0.25f * (float)rng.NextDouble());
            byte rim = (byte)rng.Next(215, 240), hole = (byte)rng.Next(35, 75);
            paint.Style = SKPaintStyle.Fill;
            paint.Color = new SKColor(rim, rim, rim);
            canvas.DrawOval(c, new SKSize(size * 1.25f, size), paint);
            paint.Color = new SKColor(hole, hole, hole);
            canvas.DrawOval(c, new SKSize(size * 1.05f, size * 0.8f), paint);
        }
    }

    private static SKPoint Scaled(SKPoint p, float k) => new(p.X * k, p.Y * k);

    private static void DrawCast(SKCanvas canvas, List<Bone> bones, Random rng)
    {
        var b = bones[rng.Next(bones.Count)];
        byte v = (byte)rng.Next(110, 160);
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = new SKColor(v, v, v, 110),
            StrokeCap = SKStrokeCap.Square,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = b.Radius * 2 + 90,
        };
        canvas.DrawLine(Along(b, 0.1f), Along(b, 0.9f), paint);
    }

    /// <summary>An L or R marker drawn as strokes (no font needed, so identical on every machine).</summary>
    private static void DrawMarker(SKCanvas canvas, int w, int h, Random rng)
    {
        float size = Math.Min(w, h) * (0.06f + 0.04f * (float)rng.NextDouble());
        float x = rng.NextDouble() < 0.5 ? size : w - 2 * size, y = rng.NextDouble() < 0.5 ? size : h - 2 * size;
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = SKColors.White,
            Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(2, size / 6),
            StrokeCap = SKStrokeCap.Square,
        };
        using var path = new SKPathBuilder();
        if (rng.NextDouble() < 0.5)
        {
            path.MoveTo(x, y);
            path.LineTo(x, y + size);
            path.LineTo(x + size * 0.6f, y + size);
        }
        else
        {
            path.MoveTo(x, y + size);
            path.LineTo(x, y);
            path.LineTo(x + size * 0.4f, y);
            path.ArcTo(new SKRect(x + size * 0.2f, y, x + size * 0.6f, y + size * 0.5f), -90, 180, false);
            path.LineTo(x, y + size * 0.5f);
            path.MoveTo(x + size * 0.25f, y + size * 0.5f);
            path.LineTo(x + size * 0.6f, y + size);
        }
        using (var built = path.Detach()) canvas.DrawPath(built, paint);
    }

    private static void AddNoise(byte[] pixels, Random rng, double sigma)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            // Box-Muller from the image's own generator: deterministic.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double g = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            pixels[i] = (byte)Math.Clamp(pixels[i] + g * sigma, 0, 255);
        }
    }
}
