using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using XraySynth.Runtime;

namespace XraySynth.Weights;

/// <summary>Where <see cref="WeightsCache"/> looks for and puts files, and how it downloads.</summary>
public sealed record WeightsCacheOptions
{
    /// <summary>Environment variable: a base URL that replaces the publishers' hosts (files are fetched as
    /// <c>BASE/&lt;file name&gt;</c>).</summary>
    public const string MirrorVariable = "XRAYSYNTH_WEIGHTS_MIRROR";

    /// <summary>Environment variable: seconds without a byte from the server before a download gives up.</summary>
    public const string TimeoutVariable = "XRAYSYNTH_DOWNLOAD_TIMEOUT";

    /// <summary>Our download folder (<c>$XRAYSYNTH_CACHE/weights</c>); downloads land here.</summary>
    public required string Directory { get; init; }

    /// <summary>torch.hub checkpoint folders searched for torchvision's files (plain file names).</summary>
    public IReadOnlyList<string> TorchHubDirectories { get; init; } = [];

    /// <summary>The official code's dnnlib download folders (files named <c>&lt;md5 of the URL&gt;_&lt;name&gt;</c>).</summary>
    public IReadOnlyList<string> DnnlibDirectories { get; init; } = [];

    /// <summary>Base URL replacing the canonical hosts, or null for the canonical URLs.</summary>
    public string? Mirror { get; init; }

    /// <summary>Longest wait for the connection, the response headers or the next bytes of the body.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests per download: after a cut connection the next one resumes with an HTTP Range request.</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>The settings of this machine: <c>$XRAYSYNTH_CACHE</c>, <c>$TORCH_HOME</c> (else
    /// <c>$XDG_CACHE_HOME/torch</c>, else <c>~/.cache/torch</c>) and <c>~/.cache/torch</c>, <c>$DNNLIB_CACHE_DIR</c> and
    /// <c>~/.cache/dnnlib</c>, <see cref="MirrorVariable"/>, <see cref="TimeoutVariable"/>.</summary>
    public static WeightsCacheOptions FromEnvironment(Func<string, string?>? getEnvironment = null)
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        string? Env(string name) => getEnvironment(name) is { Length: > 0 } v ? v : null;
        var home = Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var defaultTorch = Path.Combine(Env("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache"), "torch");
        var torchHub = new List<string>();
        if (Env("TORCH_HOME") is { } torchHome) torchHub.Add(Path.Combine(torchHome, "hub", "checkpoints"));
        torchHub.Add(Path.Combine(defaultTorch, "hub", "checkpoints"));
        torchHub.Add(Path.Combine(home, ".cache", "torch", "hub", "checkpoints"));
        var dnnlib = new List<string>();
        if (Env("DNNLIB_CACHE_DIR") is { } dnnlibDir) dnnlib.Add(Path.Combine(dnnlibDir, "downloads"));
        dnnlib.Add(Path.Combine(home, ".cache", "dnnlib", "downloads"));
        var timeout = TimeSpan.FromSeconds(60);
        if (Env(TimeoutVariable) is { } t)
        {
            if (!double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
                throw new WeightsException($"${TimeoutVariable}='{t}': expected a positive number of seconds.");
            timeout = TimeSpan.FromSeconds(seconds);
        }
        return new WeightsCacheOptions
        {
            Directory = Path.Combine(CacheFolder.Root(getEnvironment), "weights"),
            TorchHubDirectories = [.. torchHub.Select(Path.GetFullPath).Distinct()],
            DnnlibDirectories = [.. dnnlib.Select(Path.GetFullPath).Distinct()],
            Mirror = Env(MirrorVariable),
            Timeout = timeout,
        };
    }
}

/// <summary>
/// Named weights (see <see cref="WeightsRegistry"/>) as local, verified files, the way torch.hub and the official
/// dnnlib do it, plus verification everywhere:
/// <list type="number">
/// <item>A copy the user already has is reused: our folder (<see cref="WeightsCacheOptions.Directory"/>), the torch.hub
/// checkpoint folders, the official code's dnnlib download cache.</item>
/// <item>Otherwise it is downloaded over HTTPS (or from <see cref="WeightsCacheOptions.Mirror"/>) into
/// <c>&lt;file&gt;.partial</c> beside its final name, resumed with an HTTP Range request after a cut, verified, and only
/// then renamed to its final name: a file under the final name is always complete.</item>
/// <item>Every file, found or downloaded, is checked by SHA-256: against the publisher's prefix where there is one
/// (torchvision); else against the full SHA-256 recorded in <c>sha256-pins.json</c> the first time the file was
/// accepted (trust on first use: NVIDIA publishes no hashes). A copy that fails is not used; our own is deleted.</item>
/// </list>
/// Nothing is written outside <see cref="WeightsCacheOptions.Directory"/>.
/// </summary>
public sealed partial class WeightsCache(WeightsCacheOptions options)
{
    /// <summary>The file in <see cref="WeightsCacheOptions.Directory"/> holding the recorded SHA-256 of files whose
    /// publisher states none.</summary>
    public const string PinsFileName = "sha256-pins.json";

    private const int ReportEveryBytes = 1 << 18;

    /// <summary>The settings in use.</summary>
    public WeightsCacheOptions Options { get; } = options;

    /// <summary>A cache with this machine's settings (<see cref="WeightsCacheOptions.FromEnvironment"/>).</summary>
    public static WeightsCache FromEnvironment() => new(WeightsCacheOptions.FromEnvironment());

    /// <summary>
    /// A local file for <paramref name="nameOrPath"/>: an existing file is returned as it is (full path); a name of
    /// <see cref="WeightsRegistry"/> (of <paramref name="kind"/> when given) gives its verified cached or downloaded copy.
    /// </summary>
    /// <exception cref="DataException">Neither a file nor a name (of that kind): the user's input.</exception>
    /// <exception cref="WeightsException">The download failed or the file does not match its hash.</exception>
    public string Resolve(string nameOrPath, WeightsKind? kind, IProgress<ProgressInfo>? progress = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (File.Exists(nameOrPath)) return Path.GetFullPath(nameOrPath);
        var source = WeightsRegistry.Find(nameOrPath);
        var names = kind is { } k ? WeightsRegistry.Names(k) : WeightsRegistry.All.Select(s => s.Name).ToList();
        if (source is null || (kind is not null && source.Kind != kind))
        {
            var what = source is null ? "is neither an existing file nor a known name" : $"names a {source.Kind} file, not a {kind} one";
            throw new DataException($"'{nameOrPath}' {what}. fix: pass an existing file or one of: {string.Join(", ", names)}.");
        }
        return Resolve(source, progress, cancel);
    }

    /// <summary><see cref="Resolve(string, WeightsKind?, IProgress{ProgressInfo}?, CancellationToken)"/> for any kind.</summary>
    public string Resolve(string nameOrPath, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default) =>
        Resolve(nameOrPath, null, progress, cancel);

    /// <summary>The verified local copy of <paramref name="source"/>, downloading it when there is none.</summary>
    /// <exception cref="WeightsException">The download failed or the file does not match its hash.</exception>
    public string Resolve(WeightsSource source, IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var rejected = new List<string>();
        var found = FindLocal(source, rejected);
        if (found is not null) return found;
        return Download(source, rejected, progress, cancel);
    }

    /// <summary>A verified copy the user already has, or null. Copies that fail verification are skipped (and our
    /// own deleted); their paths and reasons go to <paramref name="rejected"/>.</summary>
    public string? FindLocal(WeightsSource source, List<string>? rejected = null)
    {
        foreach (var candidate in Candidates(source))
        {
            if (!File.Exists(candidate)) continue;
            var problem = Verify(source, candidate);
            if (problem is null) return Path.GetFullPath(candidate);
            rejected?.Add($"{candidate}: {problem}");
            if (IsOurs(candidate)) TryDelete(candidate);
        }
        return null;
    }

    /// <summary>Where a hand-downloaded copy of <paramref name="source"/> is picked up first.</summary>
    public string TargetPath(WeightsSource source) => Path.Combine(Options.Directory, source.FileName);

    /// <summary>The URL <paramref name="source"/> is fetched from: the mirror's when one is set.</summary>
    public string DownloadUrl(WeightsSource source) =>
        Options.Mirror is { } m ? m.TrimEnd('/') + "/" + Uri.EscapeDataString(source.FileName) : source.Url;

    /// <summary>The name the official dnnlib cache stores <paramref name="url"/> under: md5(url) + "_" + the file name
    /// with every character outside [0-9a-zA-Z-._] replaced by "_" (dnnlib/util.py open_url).</summary>
    public static string DnnlibFileName(string url)
    {
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(url)));
        return md5 + "_" + UnsafeDnnlibChars().Replace(url[(url.LastIndexOf('/') + 1)..], "_");
    }

    [GeneratedRegex("[^0-9a-zA-Z-._]")]
    private static partial Regex UnsafeDnnlibChars();

    private IEnumerable<string> Candidates(WeightsSource source)
    {
        yield return TargetPath(source);
        foreach (var dir in Options.TorchHubDirectories)
            yield return Path.Combine(dir, source.FileName);
        var exact = DnnlibFileName(source.Url);
        var md5 = exact[..exact.IndexOf('_')];
        var suffix = exact[md5.Length..];
        foreach (var dir in Options.DnnlibDirectories)
        {
            if (!Directory.Exists(dir)) continue;
            // As dnnlib looks it up: "<md5 of the URL>_*" (the name part comes from the final, redirected URL) ...
            foreach (var hit in Directory.EnumerateFiles(dir, md5 + "_*").Order(StringComparer.Ordinal))
                yield return hit;
            // ... then the same file fetched by the official code from another address (a mirror): "<md5>_<name>".
            foreach (var other in Directory.EnumerateFiles(dir, "*" + suffix).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(other);
                if (!name.StartsWith(md5, StringComparison.Ordinal) && name.Length == md5.Length + suffix.Length)
                    yield return other;
            }
        }
    }

    private bool IsOurs(string path) =>
        string.Equals(Path.GetDirectoryName(Path.GetFullPath(path)), Path.GetFullPath(Options.Directory), StringComparison.Ordinal);

    /// <summary>Null when <paramref name="file"/> is <paramref name="source"/>'s file, else why not. A file of a
    /// source without a published hash is pinned here on first acceptance.</summary>
    private string? Verify(WeightsSource source, string file)
    {
        var sha = Sha256Of(file);
        if (source.Sha256Prefix is { } prefix)
        {
            return sha.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                ? null
                : $"SHA-256 {sha} does not start with {prefix}, the hash prefix in its published name (a damaged or different file)";
        }
        var pins = ReadPins();
        if (pins.TryGetValue(source.FileName, out var pinned))
        {
            return string.Equals(pinned, sha, StringComparison.OrdinalIgnoreCase)
                ? null
                : $"SHA-256 {sha} differs from {pinned}, recorded in {Path.Combine(Options.Directory, PinsFileName)} when the file was first accepted " +
                  "(a damaged or different file; if the publisher really changed it, delete that entry)";
        }
        pins[source.FileName] = sha;     // trust on first use
        WritePins(pins);
        return null;
    }

    private Dictionary<string, string> ReadPins()
    {
        var path = Path.Combine(Options.Directory, PinsFileName);
        if (!File.Exists(path)) return new(StringComparer.Ordinal);
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) is { } d
                ? new(d, StringComparer.Ordinal)
                : new(StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new WeightsException($"{path}: not a valid list of recorded SHA-256s ({e.Message}). fix: delete the file " +
                                       "(the hashes are recorded again on next use).", folder: Options.Directory);
        }
    }

    private void WritePins(Dictionary<string, string> pins)
    {
        Directory.CreateDirectory(Options.Directory);
        var sorted = new SortedDictionary<string, string>(pins, StringComparer.Ordinal);
        AtomicFile.WriteAllText(Path.Combine(Options.Directory, PinsFileName),
            JsonSerializer.Serialize(sorted, new JsonSerializerOptions { WriteIndented = true }));
    }

    private string Download(WeightsSource source, List<string> rejected, IProgress<ProgressInfo>? progress, CancellationToken cancel)
    {
        var url = DownloadUrl(source);
        var target = TargetPath(source);
        var partial = target + ".partial";
        string Advice(string reason) =>
            $"Cannot download {source.FileName} ({source.Description}) from {url}: {reason}. " +
            $"fix: download it yourself (on a machine that can reach the address) and put it in {Options.Directory}/, " +
            $"or pass the file's path instead of '{source.Name}'; set ${WeightsCacheOptions.MirrorVariable} to a server that has it, " +
            "or HTTPS_PROXY if you are behind a proxy." +
            (rejected.Count > 0 ? " Copies found but not used: " + string.Join("; ", rejected) + "." : "");

        Directory.CreateDirectory(Options.Directory);
        FileStream stream;
        try
        {
            // One downloader per file: a second process waits for nothing and says so.
            stream = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new WeightsException(Advice($"{partial} is in use ({e.Message}); another XraySynth may be downloading it - wait and rerun"),
                url, Options.Directory, e);
        }
        using (stream)
        {
            using var client = CreateClient();
            var stage = $"download {source.FileName}";
            Exception? last = null;
            var done = false;
            for (var attempt = 1; attempt <= Math.Max(1, Options.Attempts) && !done; attempt++)
            {
                cancel.ThrowIfCancellationRequested();
                try
                {
                    done = Fetch(client, url, stream, stage, progress, cancel);
                    last = null;
                }
                catch (HttpRequestException e) when (e.StatusCode is not null)
                {
                    throw new WeightsException(Advice($"the server answered {(int)e.StatusCode} {e.StatusCode}"), url, Options.Directory, e);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException
                                              or OperationCanceledException && !cancel.IsCancellationRequested)
                {
                    last = e;   // cut, refused or stalled: keep what arrived and try again with a Range request
                }
            }
            if (!done)
            {
                var reason = last is null ? "the server refused to resume the partial download" : last is TimeoutException or OperationCanceledException
                    ? $"no answer for {Options.Timeout.TotalSeconds:G} s (offline, a firewall or a proxy?)"
                    : Innermost(last);
                var kept = stream.Length > 0 ? $" ({stream.Length} bytes kept in {partial}; the next run resumes)" : "";
                throw new WeightsException(Advice(reason + kept), url, Options.Directory, last);
            }
        }

        var problem = Verify(source, partial);
        if (problem is not null)
        {
            TryDelete(partial);
            throw new WeightsException(
                $"Downloaded {source.FileName} from {url}, but {problem}; the file was removed. " +
                $"fix: rerun to download it again; if it fails again, the server ({url}) serves a different file - " +
                $"download it from {source.Url} yourself and put it in {Options.Directory}/.", url, Options.Directory);
        }
        File.Move(partial, target, overwrite: true);
        return target;
    }

    /// <summary>One request: appends the rest of the file to <paramref name="stream"/>. True when the file is complete.</summary>
    private bool Fetch(HttpClient client, string url, FileStream stream, string stage, IProgress<ProgressInfo>? progress,
        CancellationToken cancel)
    {
        var have = stream.Length;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(have, null);
        using var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        headerTimeout.CancelAfter(Options.Timeout);
        using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, headerTimeout.Token);
        if (response.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            stream.SetLength(0);  // the partial file is not a prefix of what the server has: start over
            return false;
        }
        response.EnsureSuccessStatusCode();
        long total;
        if (response.StatusCode == System.Net.HttpStatusCode.PartialContent && response.Content.Headers.ContentRange is { } range
            && range.From == have)
        {
            total = range.Length ?? -1;
        }
        else
        {
            have = 0;           // the server ignored the Range request: the body is the whole file
            stream.SetLength(0);
            total = response.Content.Headers.ContentLength ?? -1;
        }
        stream.Seek(have, SeekOrigin.Begin);
        using var body = response.Content.ReadAsStream(cancel);
        var buffer = new byte[1 << 16];
        long lastReport = -ReportEveryBytes;
        progress?.Report(new ProgressInfo(stage, have, Math.Max(total, have), "B"));
        while (true)
        {
            // The stall timeout: each read must bring bytes within Options.Timeout.
            // (WaitAsync throws TimeoutException; the read's own errors come through unwrapped.)
            var n = body.ReadAsync(buffer, cancel).AsTask().WaitAsync(Options.Timeout, cancel).GetAwaiter().GetResult();
            if (n == 0) break;
            stream.Write(buffer, 0, n);
            have += n;
            if (have - lastReport >= ReportEveryBytes)
            {
                progress?.Report(new ProgressInfo(stage, have, Math.Max(total, have), "B"));
                lastReport = have;
            }
        }
        stream.Flush(flushToDisk: true);
        if (total >= 0 && have < total)
            throw new IOException($"the connection closed after {have} of {total} bytes");
        progress?.Report(new ProgressInfo(stage, have, have, "B"));
        return true;
    }

    private HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = Options.Timeout,
            AutomaticDecompression = System.Net.DecompressionMethods.None,   // byte ranges count raw bytes
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("XraySynth");
        return client;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.TrimEnd('.');
    }

    internal static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
