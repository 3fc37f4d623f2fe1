using System.Security.Cryptography;
using System.Text.Json;
using XraySynth.Classifier.Models;
using XraySynth.Runtime;
using XraySynth.Tests.Support;
using XraySynth.Weights;

namespace XraySynth.Tests.Weights;

/// <summary>The downloader against a server on 127.0.0.1 (never the internet).</summary>
public sealed class WeightsCacheTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly byte[] _content = RandomBytes(200_000, 7);

    public void Dispose() => _tmp.Dispose();

    private static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    /// <summary>A torchvision-style source whose name carries the content's SHA-256 prefix.</summary>
    private WeightsSource Torchvision(byte[] content, string? prefix = null)
    {
        prefix ??= Sha(content)[..8];
        return new WeightsSource("tiny", WeightsKind.ImageNet, $"https://download.example/models/tiny-{prefix}.pth", prefix, "a test file");
    }

    /// <summary>An NVIDIA-style source: no published hash (trust on first use).</summary>
    private static WeightsSource Nvidia() =>
        new("tinygan", WeightsKind.Network, "https://cdn.example/pretrained/tiny-gan.pkl", null, "a test network");

    private WeightsCache Cache(LocalHttpServer? server, TimeSpan? timeout = null, int attempts = 3) => new(new WeightsCacheOptions
    {
        Directory = _tmp.Combine("xraysynth", "weights"),
        TorchHubDirectories = [_tmp.Combine("torch", "hub", "checkpoints")],
        DnnlibDirectories = [_tmp.Combine("dnnlib", "downloads")],
        Mirror = server is null ? "http://127.0.0.1:9/none" : server.BaseUrl + "/mirror/",
        Timeout = timeout ?? TimeSpan.FromSeconds(20),
        Attempts = attempts,
    });

    private sealed class Recorder : IProgress<ProgressInfo>
    {
        public List<ProgressInfo> Reports { get; } = [];
        public void Report(ProgressInfo value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public void Download_VerifiesThePrefix_RenamesAtomically_ReportsBytes_AndIsReusedAfterwards()
    {
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content));
        var cache = Cache(server);
        var source = Torchvision(_content);
        var progress = new Recorder();

        var path = cache.Resolve(source, progress);

        Assert.Equal(cache.TargetPath(source), path);
        Assert.Equal(_content, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal("/mirror/" + source.FileName, Assert.Single(server.Requests).Path);
        var last = progress.Reports[^1];
        Assert.Equal(("B", _content.Length, _content.Length), (last.Unit, last.Done, last.Total));
        Assert.Contains(source.FileName, last.Stage);

        Assert.Equal(path, cache.Resolve(source));           // second use: from the cache, no request
        Assert.Single(server.Requests);
    }

    [Fact]
    public void CutConnection_IsResumedWithARangeRequest()
    {
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content, cutAfter: r.Index == 0 ? 70_000 : null));
        var path = Cache(server).Resolve(Torchvision(_content));

        Assert.Equal(_content, File.ReadAllBytes(path));
        Assert.Equal(2, server.Requests.Count);
        Assert.Null(server.Requests[0].RangeFrom);
        Assert.Equal(70_000, server.Requests[1].RangeFrom);
    }

    [Fact]
    public void PartialFileFromAnEarlierRun_IsResumed_AndAServerIgnoringRangeStillGivesTheRightFile()
    {
        var cache = Cache(null);
        var source = Torchvision(_content);
        Directory.CreateDirectory(cache.Options.Directory);
        File.WriteAllBytes(cache.TargetPath(source) + ".partial", _content[..50_000]);

        using (var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content)))
        {
            Assert.Equal(_content, File.ReadAllBytes(Cache(server).Resolve(source)));
            Assert.Equal(50_000, Assert.Single(server.Requests).RangeFrom);
        }

        File.Delete(cache.TargetPath(source));
        File.WriteAllBytes(cache.TargetPath(source) + ".partial", RandomBytes(50_000, 99));   // not even a prefix
        using (var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content, honourRange: false)))
            Assert.Equal(_content, File.ReadAllBytes(Cache(server).Resolve(source)));
    }

    [Fact]
    public void WrongHash_RemovesTheFile_AndSaysSo()
    {
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content));
        var prefix = Sha(_content).StartsWith('0') ? "ffffffff" : "00000000";
        var source = Torchvision(_content, prefix);
        var cache = Cache(server);

        var e = Assert.Throws<WeightsException>(() => cache.Resolve(source));

        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(prefix, e.Message);
        Assert.Contains("removed", e.Message);
        Assert.False(File.Exists(cache.TargetPath(source)));
        Assert.False(File.Exists(cache.TargetPath(source) + ".partial"));
    }

    [Fact]
    public void NotFound_FailsAtOnce_NamingTheUrlAndTheFolder()
    {
        using var server = new LocalHttpServer((_, s) => LocalHttpServer.Head(s, 404, "Not Found", "Content-Length: 0"));
        var cache = Cache(server);
        var source = Torchvision(_content);

        var e = Assert.Throws<WeightsException>(() => cache.Resolve(source));

        Assert.Single(server.Requests);                       // a 404 is not retried
        Assert.Contains("404", e.Message);
        Assert.Equal(cache.DownloadUrl(source), e.Url);
        Assert.Contains(e.Url!, e.Message);
        Assert.Contains(cache.Options.Directory, e.Message);
        Assert.Contains(WeightsCacheOptions.MirrorVariable, e.Message);
    }

    [Fact]
    public void StalledServer_TimesOut_KeepsTheBytesForTheNextRun()
    {
        using var server = new LocalHttpServer((r, s) =>
        {
            LocalHttpServer.File(r, s, _content, cutAfter: 1000);
            s.Flush();
            Thread.Sleep(TimeSpan.FromSeconds(3));   // then silence
        });
        var cache = Cache(server, timeout: TimeSpan.FromMilliseconds(300), attempts: 1);
        var source = Torchvision(_content);
        var e = Assert.Throws<WeightsException>(() => cache.Resolve(source));

        // The stall message (not the cut-connection one the server's close after 3 s would give) shows the 0.3 s
        // timeout fired; no wall-clock assertion, so a loaded machine cannot fail this.
        Assert.Contains("no answer for 0.3 s", e.Message);
        Assert.Contains("the next run resumes", e.Message);
        Assert.Equal(1000, new FileInfo(cache.TargetPath(source) + ".partial").Length);
        Assert.False(File.Exists(cache.TargetPath(source)));
    }

    [Fact]
    public void Offline_OneMessage_WithTheUrlAndTheFolder()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }   // closed: connections are refused
        var cache = new WeightsCache(Cache(null).Options with { Mirror = $"http://127.0.0.1:{port}" });
        var e = Assert.Throws<WeightsException>(() => cache.Resolve(Torchvision(_content)));
        Assert.StartsWith("Cannot download tiny-", e.Message);
        Assert.Contains($"http://127.0.0.1:{port}/tiny-", e.Message);
        Assert.Contains(cache.Options.Directory, e.Message);
    }

    [Fact]
    public void FileInTheTorchHubCache_IsReused_WithoutARequest_ButNotWhenItsHashIsWrong()
    {
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content));
        var cache = Cache(server);
        var source = Torchvision(_content);
        var hub = cache.Options.TorchHubDirectories[0];
        Directory.CreateDirectory(hub);
        var theirs = Path.Combine(hub, source.FileName);
        File.WriteAllBytes(theirs, _content);

        Assert.Equal(theirs, cache.Resolve(source));
        Assert.Empty(server.Requests);

        File.WriteAllBytes(theirs, RandomBytes(1000, 3));       // damaged: skipped, left alone, downloaded afresh
        Assert.Equal(cache.TargetPath(source), cache.Resolve(source));
        Assert.Single(server.Requests);
        Assert.Equal(1000, new FileInfo(theirs).Length);
    }

    [Fact]
    public void FileInTheDnnlibCache_IsFoundByTheOfficialName_AndPinnedOnFirstUse()
    {
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, _content));
        var cache = Cache(server);
        var source = Nvidia();
        var downloads = cache.Options.DnnlibDirectories[0];
        Directory.CreateDirectory(downloads);
        var theirs = Path.Combine(downloads, WeightsCache.DnnlibFileName(source.Url));
        File.WriteAllBytes(theirs, _content);

        Assert.Equal(theirs, cache.Resolve(source));
        Assert.Empty(server.Requests);
        var pins = JsonSerializer.Deserialize<Dictionary<string, string>>(
            File.ReadAllText(Path.Combine(cache.Options.Directory, WeightsCache.PinsFileName)))!;
        Assert.Equal(Sha(_content), pins[source.FileName]);
    }

    [Fact]
    public void DnnlibFileName_IsMd5OfTheUrl_AsTheOfficialCode()
    {
        // hashlib.md5(url.encode()).hexdigest() + "_" + name, computed with Python.
        Assert.Equal("a866f8d678872dcf6fcf60ddd09807ab_inception-2015-12-05.pt",
            WeightsCache.DnnlibFileName("https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"));
    }

    [Fact]
    public void TrustOnFirstUse_RefusesAChangedFileLater()
    {
        var served = _content;
        using var server = new LocalHttpServer((r, s) => LocalHttpServer.File(r, s, served));
        var cache = Cache(server);
        var source = Nvidia();
        var path = cache.Resolve(source);                        // first download: its SHA-256 is recorded

        File.WriteAllBytes(path, RandomBytes(_content.Length, 5));   // our copy damaged on disk
        served = RandomBytes(_content.Length, 6);                    // and the server now has something else
        var e = Assert.Throws<WeightsException>(() => cache.Resolve(source));

        Assert.Contains("differs from " + Sha(_content), e.Message);
        Assert.False(File.Exists(path));                         // the damaged copy of ours is gone too
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public void Resolve_ByName_ReturnsExistingFilesAsTheyAre_AndListsTheNamesOtherwise()
    {
        var cache = Cache(null);
        var file = _tmp.Combine("mine.pth");
        File.WriteAllBytes(file, [1, 2, 3]);
        Assert.Equal(file, cache.Resolve(file));

        var unknown = Assert.Throws<DataException>(() => cache.Resolve("ffhq-typo"));
        Assert.Contains("ffhq256", unknown.Message);
        var wrongKind = Assert.Throws<DataException>(() => cache.Resolve("inception", WeightsKind.Network));
        Assert.Contains("Detector", wrongKind.Message);
        Assert.Contains("ffhq256", wrongKind.Message);
    }

    [Fact]
    public void Options_FromEnvironment_FollowTorchHomeDnnlibAndOurVariables()
    {
        var env = new Dictionary<string, string>
        {
            ["HOME"] = "/home/u",
            ["TORCH_HOME"] = "/data/torch",
            ["DNNLIB_CACHE_DIR"] = "/data/dnnlib",
            ["XRAYSYNTH_CACHE"] = "/data/xs",
            [WeightsCacheOptions.MirrorVariable] = "http://mirror.local/weights",
            [WeightsCacheOptions.TimeoutVariable] = "2.5",
        };
        var o = WeightsCacheOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("/data/xs/weights", o.Directory);
        Assert.Equal(["/data/torch/hub/checkpoints", "/home/u/.cache/torch/hub/checkpoints"], o.TorchHubDirectories);
        Assert.Equal(["/data/dnnlib/downloads", "/home/u/.cache/dnnlib/downloads"], o.DnnlibDirectories);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.Timeout);
        var cache = new WeightsCache(o);
        Assert.Equal("http://mirror.local/weights/densenet169-b2777c0a.pth", cache.DownloadUrl(WeightsRegistry.Find("densenet169")!));

        var plain = WeightsCacheOptions.FromEnvironment(k => k == "HOME" ? "/home/u" : null);
        Assert.Equal("https://download.pytorch.org/models/densenet169-b2777c0a.pth", new WeightsCache(plain).DownloadUrl(WeightsRegistry.Find("densenet169")!));
        Assert.Equal(["/home/u/.cache/torch/hub/checkpoints"], plain.TorchHubDirectories);

        env[WeightsCacheOptions.TimeoutVariable] = "soon";
        Assert.Throws<WeightsException>(() => WeightsCacheOptions.FromEnvironment(k => env.GetValueOrDefault(k)));
    }

    [Fact]
    public void Registry_HasEveryClassifierCheckpoint_TheOfficialResumeNames_AndHttpsUrls()
    {
        foreach (var arch in Enum.GetValues<ClassifierArchitecture>())
        {
            var name = ClassifierModels.Name(arch);
            var source = WeightsRegistry.ImageNet(name);
            if (arch == ClassifierArchitecture.DenseNetSmoke) { Assert.Null(source); continue; }
            Assert.NotNull(source);
            // torchvision's rule (torch.hub HASH_REGEX '-([a-f0-9]*)\.'): the prefix is in the file name.
            Assert.Matches($"^{name}-{source.Sha256Prefix}\\.pth$", source.FileName);
            Assert.StartsWith("https://download.pytorch.org/models/", source.Url);
        }
        Assert.Equal("https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/transfer-learning-source-nets/ffhq-res256-mirror-paper256-noaug.pkl",
            WeightsRegistry.Find("ffhq256")!.Url);
        foreach (var n in new[] { "ffhq256", "ffhq512", "ffhq1024", "celebahq256", "lsundog256" })
            Assert.Equal(WeightsKind.Network, WeightsRegistry.Find(n)!.Kind);
        Assert.Equal("inception-2015-12-05.pt", WeightsRegistry.Find("inception")!.FileName);
        Assert.All(WeightsRegistry.All, s => Assert.StartsWith("https://", s.Url));
        Assert.Equal(WeightsRegistry.All.Count, WeightsRegistry.All.Select(s => s.Name).Distinct().Count());
        Assert.Equal(WeightsRegistry.All.Count, WeightsRegistry.All.Select(s => s.FileName).Distinct().Count());
    }
}
