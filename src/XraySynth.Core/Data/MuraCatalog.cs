using XraySynth.Runtime;


namespace XraySynth.Data;

/// <summary>The images of a MURA-v1.1 tree for the chosen study types, read from its header-less CSVs
/// (<c>{train,valid}_image_paths.csv</c>, labels cross-checked with <c>{train,valid}_labeled_studies.csv</c>) or,
/// where the CSVs are missing, from its folders. Rows that cannot be used are listed in <see cref="Problems"/>.</summary>
public sealed class MuraCatalog
{
    public const string DatasetFolderName = "MURA-v1.1";

    private MuraCatalog(string datasetDir, string source, IReadOnlyList<MuraImage> images, IReadOnlyList<InputProblem> problems)
    {
        DatasetDir = datasetDir;
        Source = source;
        Images = images;
        Problems = problems;
    }

    /// <summary>The folder that holds <c>train/</c> and <c>valid/</c>.</summary>
    public string DatasetDir { get; }
    /// <summary>"csv" or "folders": where the image list came from.</summary>
    public string Source { get; }
    public IReadOnlyList<MuraImage> Images { get; }
    public IReadOnlyList<InputProblem> Problems { get; }

    /// <summary>Finds the dataset folder: <paramref name="root"/> itself when it holds train/ and valid/, or its
    /// <c>MURA-v1.1</c> subfolder.</summary>
    public static string FindDatasetDir(string root)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
            throw new DataException($"{root}: MURA folder not found. fix: pass --mura the folder that holds {DatasetFolderName}/ (or {DatasetFolderName} itself).");
        if (LooksLikeDataset(full)) return full;
        var inner = Path.Combine(full, DatasetFolderName);
        if (Directory.Exists(inner) && LooksLikeDataset(inner)) return inner;
        throw new DataException($"{root}: no MURA dataset here (expected train/ and valid/ or {DatasetFolderName}/train and {DatasetFolderName}/valid). fix: pass --mura the folder that holds {DatasetFolderName}/.");
    }

    private static bool LooksLikeDataset(string dir) =>
        Directory.Exists(Path.Combine(dir, "train")) || Directory.Exists(Path.Combine(dir, "valid"))
        || File.Exists(Path.Combine(dir, "train_image_paths.csv"));

    public static MuraCatalog Load(string root, IReadOnlyCollection<string> parts)
    {
        foreach (var p in parts)
            if (!MuraPaths.Parts.Contains(p))
                throw new DataException($"unknown study type '{p}'. fix: use one or more of {string.Join(", ", MuraPaths.Parts)}.");
        var datasetDir = FindDatasetDir(root);
        var problems = new List<InputProblem>();
        var images = new List<MuraImage>();
        bool anyCsv = false;
        // Symbolic links: nothing outside the dataset folder is read, and no file is counted under two names.
        var realRoot = RealPath(datasetDir) ?? datasetDir;
        var seenReal = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var split in new[] { "train", "valid" })
        {
            var pathsCsv = Path.Combine(datasetDir, $"{split}_image_paths.csv");
            IEnumerable<(string Rel, string Where)> rows;
            if (File.Exists(pathsCsv))
            {
                anyCsv = true;
                rows = ReadImagePaths(pathsCsv, datasetDir, problems);
            }
            else
            {
                rows = ScanFolder(datasetDir, split, realRoot, problems);
            }
            var studyLabels = ReadLabeledStudies(Path.Combine(datasetDir, $"{split}_labeled_studies.csv"), datasetDir, problems);
            foreach (var (rel, where) in rows)
            {
                var parsed = MuraPaths.Parse(rel, out var reason);
                if (parsed is null)
                {
                    problems.Add(new InputProblem(where, reason!));
                    continue;
                }
                var (s, part, patient, study, label) = parsed.Value;
                if (s.ToString().ToLowerInvariant() != split)
                {
                    problems.Add(new InputProblem(where, $"listed for '{split}' but lies under '{s.ToString().ToLowerInvariant()}/'"));
                    continue;
                }
                if (!parts.Contains(part)) continue;
                if (studyLabels is not null && studyLabels.TryGetValue(study, out var csvLabel) && csvLabel != label)
                {
                    problems.Add(new InputProblem(where, $"label {csvLabel} in {split}_labeled_studies.csv disagrees with the study folder name ({label}); image skipped"));
                    continue;
                }
                var full = Path.Combine(datasetDir, rel);
                if (File.Exists(full) || Directory.Exists(full))
                {
                    var real = RealPath(full);
                    if (real is null || !Inside(real, realRoot))
                    {
                        problems.Add(new InputProblem(where, $"a symbolic link to {real ?? "(a loop)"}, outside the dataset folder {realRoot}: not followed, image skipped"));
                        continue;
                    }
                    if (seenReal.TryGetValue(real, out var first) && first != rel)
                    {
                        problems.Add(new InputProblem(where, $"the same file as {first} (through a symbolic link): counted once"));
                        continue;
                    }
                    seenReal[real] = rel;
                }
                images.Add(new MuraImage(rel, full, s, part, patient, study, label));
            }
        }
        // One entry per image, in a stable order whatever the CSV order.
        var unique = images.GroupBy(i => i.RelativePath, StringComparer.Ordinal).Select(g => g.First())
            .OrderBy(i => i.RelativePath, StringComparer.Ordinal).ToList();
        if (unique.Count < images.Count)
            problems.Add(new InputProblem(datasetDir, $"{images.Count - unique.Count} image paths are listed more than once; each is used once"));
        return new MuraCatalog(datasetDir, anyCsv ? "csv" : "folders", unique, problems);
    }

    /// <summary>Rows of an image-path CSV as paths relative to the dataset folder. Rows that escape the dataset
    /// folder or are malformed become problems naming the CSV and line.</summary>
    private static List<(string Rel, string Where)> ReadImagePaths(string csvPath, string datasetDir, List<InputProblem> problems)
    {
        var result = new List<(string, string)>();
        foreach (var (line, fields) in ReadCsv(csvPath))
        {
            var where = $"{csvPath}:{line}";
            if (fields.Length != 1 || string.IsNullOrWhiteSpace(fields[0]))
            {
                problems.Add(new InputProblem(where, $"expected one column (an image path), got {fields.Length}: '{string.Join(",", fields)}'"));
                continue;
            }
            var rel = ToDatasetRelative(fields[0].Trim(), datasetDir, out var reason);
            if (rel is null) problems.Add(new InputProblem(where, reason!));
            else result.Add((rel, where));
        }
        return result;
    }

    /// <summary>Study folder → label from a labeled-studies CSV, or null when the file is absent.</summary>
    private static Dictionary<string, int>? ReadLabeledStudies(string csvPath, string datasetDir, List<InputProblem> problems)
    {
        if (!File.Exists(csvPath)) return null;
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, fields) in ReadCsv(csvPath))
        {
            var where = $"{csvPath}:{line}";
            if (fields.Length != 2 || fields[1].Trim() is not ("0" or "1"))
            {
                problems.Add(new InputProblem(where, $"expected 'study folder/,0|1', got '{string.Join(",", fields)}'"));
                continue;
            }
            var rel = ToDatasetRelative(fields[0].Trim().TrimEnd('/'), datasetDir, out var reason);
            if (rel is null)
            {
                problems.Add(new InputProblem(where, reason!));
                continue;
            }
            labels[rel] = fields[1].Trim() == "1" ? 1 : 0;
        }
        return labels;
    }

    private static IEnumerable<(int Line, string[] Fields)> ReadCsv(string path)
    {
        using var csv = Csv.Open(path, hasHeader: false, lenient: true);
        while (csv.Read())
            yield return (csv.Parser.RawRow, csv.Parser.Record ?? []);
    }

    /// <summary>A CSV path (relative to the folder that holds MURA-v1.1/, so starting with 'MURA-v1.1/') as a path
    /// relative to the dataset folder; null with a reason when it is absolute or leaves the dataset folder.</summary>
    internal static string? ToDatasetRelative(string csvPath, string datasetDir, out string? reason)
    {
        reason = null;
        var p = csvPath.Replace('\\', '/');
        if (Path.IsPathRooted(p) || p.StartsWith('/'))
        {
            reason = $"absolute path '{csvPath}' is not allowed: paths must be relative to the folder holding {DatasetFolderName}/";
            return null;
        }
        var segs = p.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segs.Any(s => s == ".."))
        {
            reason = $"path '{csvPath}' escapes the dataset root with '..'; fix the CSV row";
            return null;
        }
        // The first segment names the dataset folder (MURA-v1.1 or however it was renamed).
        if (segs.Length > 0 && segs[0] is not ("train" or "valid")) segs = segs[1..];
        var rel = string.Join('/', segs.Where(s => s != "."));
        var full = Path.GetFullPath(Path.Combine(datasetDir, rel));
        if (!full.StartsWith(datasetDir.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            reason = $"path '{csvPath}' escapes the dataset root; fix the CSV row";
            return null;
        }
        return rel;
    }

    /// <summary>The images under DATASET/split, in ordinal order. A linked folder is not entered (one problem names
    /// it); linked files are checked by the caller like every other image.</summary>
    private static List<(string Rel, string Where)> ScanFolder(string datasetDir, string split, string realRoot, List<InputProblem> problems)
    {
        var result = new List<(string Rel, string Where)>();
        var dir = Path.Combine(datasetDir, split);
        if (!Directory.Exists(dir)) return result;
        var pending = new Stack<string>();
        pending.Push(dir);
        var files = new List<string>();
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(current))
            {
                if (new DirectoryInfo(sub).LinkTarget is null)
                {
                    pending.Push(sub);
                    continue;
                }
                var real = RealPath(sub);
                var where = real is not null && Inside(real, realRoot) ? "inside the dataset (its images count under their own path)" : "outside the dataset folder";
                problems.Add(new InputProblem(sub, $"a symbolic link to the folder {real ?? "(a loop)"}, {where}: not followed"));
            }
            files.AddRange(Directory.EnumerateFiles(current)
                .Where(f => !Path.GetFileName(f).StartsWith('.'))   // macOS '._image1.png' resource forks and hidden files
                .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                            || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)));
        }
        foreach (var f in files.Order(StringComparer.Ordinal))
            result.Add((Path.GetRelativePath(datasetDir, f).Replace('\\', '/'), f));
        return result;
    }

    private static bool Inside(string path, string root) =>
        path.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>The path with every symbolic link on it resolved (like realpath(3)); null for a link loop.</summary>
    internal static string? RealPath(string path)
    {
        var pending = new Queue<string>(Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var current = "/";
        int hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Dequeue();
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            var target = info.Exists || info.LinkTarget is not null ? info.LinkTarget : null;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > 40) return null;
            // Restart from the link's target, then the rest of the path.
            var resolved = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
            var rest = pending.ToArray();
            pending = new Queue<string>(resolved.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
            current = "/";
        }
        return current;
    }
}
